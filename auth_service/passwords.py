"""Password policy and argon2id hashing (argon2-cffi), run off the event loop: a hash
takes tens of milliseconds (figures: bench/README.md)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import ValidationFailed
from shared.password_policy import MIN_LENGTH, common_passwords

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Verified against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("satyamark-timing-equaliser")


class WeakPassword(ValidationFailed):
    code = "AUTH-PWD-422"


def check_password_policy(password: str) -> None:
    """Refuse passwords that are too short or among the most common ones."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_LENGTH} characters long")
    if password.casefold() in common_passwords():
        raise WeakPassword(
            "this password is one of the most common ones and easy to guess; choose another"
        )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored_hash, password)
