"""Random public ids (API keys, webhooks): lower-case Crockford base32, no look-alikes."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def random_id(length: int = 16) -> str:
    """``length`` characters, 5 random bits each (16: 80 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
