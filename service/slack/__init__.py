"""The Slack slash command: signature check, text grammar, catalog matching, Block Kit replies.

Everything here is pure except :mod:`service.slack.answer`, which reads the catalog through
the request's database session; the HTTP route lives in :mod:`service.api.slack`.
"""
