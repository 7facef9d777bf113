"""Accuracy against real measurements: reference data, back-tests and the validation report.

``capplan validate`` (``service.cli.validate``) runs :func:`service.validation.evaluate.run`
and writes ``docs/validation.md`` and ``docs/validation.svg``.
"""
