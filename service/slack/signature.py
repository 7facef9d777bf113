"""Verify that a request came from Slack: v0 HMAC-SHA256 over ``v0:{timestamp}:{body}``.

``slack_sdk``'s verifier does the HMAC, the 5-minute replay window and the constant-time
compare; it raises on input it does not expect (a non-numeric timestamp, a body that is not
UTF-8, a non-ASCII signature), so those are refused here first: never a 500.
"""

from __future__ import annotations

from slack_sdk.signature import Clock, SignatureVerifier

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"
#: Unix seconds have 10 digits until the year 2286; anything longer is not a fresh request.
MAX_TIMESTAMP_DIGITS = 12


def is_signed_by_slack(
    secret: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    clock: Clock | None = None,
) -> bool:
    """True only for a fresh request signed with ``secret``; no secret refuses everything."""
    if not secret or not secret.strip() or not timestamp or not signature:
        return False
    if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False
    if len(timestamp) > MAX_TIMESTAMP_DIGITS:  # the verifier's float arithmetic would overflow
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    verifier = SignatureVerifier(secret, clock=clock or Clock())
    return bool(verifier.is_valid(body=body, timestamp=timestamp, signature=signature))
