"""The deployment gate behind ``capplan check``: does a ``vllm serve`` setup fit, and if not, why.

Pure of I/O except :mod:`service.gate.offline` (reads the bundled catalog) and
:mod:`service.gate.remote` (asks a capplan server); both implement one
:class:`~service.gate.backend.Backend`, so the verdict logic is written once.
"""
