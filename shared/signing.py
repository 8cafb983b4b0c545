"""HMAC-SHA256 signatures for worker callbacks, in the Standard Webhooks shape.

Headers: ``webhook-id`` (unique per delivery), ``webhook-timestamp`` (unix seconds) and
``webhook-signature`` (``v1,<base64 hmac>``, several may be space-separated during a
secret rotation). The signed content is ``id.timestamp.body``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE_S = 300


class SignatureError(Exception):
    """The delivery is not authentic; ``reason`` says why (for the error message)."""

    def __init__(self, reason: str, *, stale: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stale = stale


def _digest(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


def sign(
    secret: bytes, message_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Headers that authenticate ``body`` as delivery ``message_id``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: f"v1,{_digest(secret, message_id, ts, body)}",
    }


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    message_id: str
    timestamp: int


def verify(
    secret: bytes,
    headers: dict[str, str],
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> VerifiedDelivery:
    """Check headers and body; raise ``SignatureError`` unless authentic and fresh."""
    message_id = headers.get(ID_HEADER, "")
    raw_ts = headers.get(TIMESTAMP_HEADER, "")
    raw_sig = headers.get(SIGNATURE_HEADER, "")
    if not message_id or not raw_ts or not raw_sig:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    if len(message_id) > 128:
        raise SignatureError("webhook-id too long")
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise SignatureError("webhook-timestamp is not a unix time")
    ts = int(raw_ts)
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError("webhook-timestamp outside the accepted window", stale=True)
    expected = _digest(secret, message_id, ts, body)
    for candidate in raw_sig.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return VerifiedDelivery(message_id=message_id, timestamp=ts)
    raise SignatureError("signature does not match")
