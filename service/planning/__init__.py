"""Use cases shared by every interface: resolve a question's model and GPUs, answer it.

Raises the domain errors of :mod:`service.planning.errors`; each adapter maps them to its own
form (problem+json, exit code, Slack message).
"""
