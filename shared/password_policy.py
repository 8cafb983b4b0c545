"""The password policy's data: auth_service enforces it, the gateway publishes the
list in its OpenAPI schema."""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_LENGTH = 8
_COMMON_LIST = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The refused passwords, lower-cased (compare with ``password.casefold()``)."""
    lines = _COMMON_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )
