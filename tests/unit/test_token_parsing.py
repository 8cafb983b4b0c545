"""Property tests of access-token parsing: whatever the bytes, a token is either the
exact one issued or refused with InvalidToken — never accepted, never another error."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth_service.config import AuthSettings
from auth_service.tokens import InvalidToken, TokenService

SERVICE = TokenService(AuthSettings())
GOOD = SERVICE.issue("user-1").access_token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        SERVICE.validate(token)


def test_the_issued_token_is_accepted() -> None:
    assert SERVICE.validate(GOOD).user_id == "user-1"


@given(st.text(max_size=3000))
def test_any_text_is_refused_cleanly(token: str) -> None:
    _refused(token)


@given(st.integers(0, len(GOOD) - 1), st.sampled_from("ABCxyz019-_.="))
def test_any_one_character_change_is_refused(position: int, char: str) -> None:
    if GOOD[position] == char:
        return
    _refused(GOOD[:position] + char + GOOD[position + 1 :])


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku"]), _json),
    st.dictionaries(st.sampled_from(["sub", "exp", "iat", "iss", "aud", "jti", "nbf"]), _json),
)
def test_forged_headers_and_claims_are_refused(header: dict, claims: dict) -> None:  # type: ignore[type-arg]
    head, _, signature = GOOD.split(".")
    forged = ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), signature]
    )
    _refused(forged)
    # The real header with forged claims (the signature no longer matches them).
    _refused(".".join([head, _b64(json.dumps(claims).encode()), signature]))
