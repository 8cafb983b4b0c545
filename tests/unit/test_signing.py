import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.signing import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    sign,
    verify,
)

SECRET = b"test-secret-0123456789"


@given(st.binary(max_size=2000), st.text(min_size=1, max_size=64).filter(lambda s: "." not in s))
def test_signed_bodies_verify(body: bytes, message_id: str) -> None:
    headers = sign(SECRET, message_id, body)
    assert verify(SECRET, headers, body).message_id == message_id


@given(st.binary(min_size=1, max_size=500), st.integers(0, 499), st.integers(1, 255))
def test_any_tampered_byte_is_rejected(body: bytes, index: int, flip: int) -> None:
    headers = sign(SECRET, "msg_1", body)
    i = index % len(body)
    tampered = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
    with pytest.raises(SignatureError):
        verify(SECRET, headers, tampered)


@given(
    st.dictionaries(
        st.sampled_from([ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER]), st.text(max_size=120)
    )
)
def test_garbage_headers_never_verify_or_crash(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, headers, b"{}")


def test_wrong_secret_rejected() -> None:
    headers = sign(b"other-secret", "msg_1", b"{}")
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, headers, b"{}")


def test_stale_and_future_timestamps_rejected() -> None:
    now = int(time.time())
    for ts in (now - 301, now + 301):
        headers = sign(SECRET, "msg_1", b"{}", timestamp=ts)
        with pytest.raises(SignatureError) as info:
            verify(SECRET, headers, b"{}")
        assert info.value.stale


def test_message_id_is_part_of_signature() -> None:
    headers = sign(SECRET, "msg_1", b"{}")
    headers[ID_HEADER] = "msg_2"
    with pytest.raises(SignatureError):
        verify(SECRET, headers, b"{}")


def test_rotation_accepts_any_listed_signature() -> None:
    headers = sign(SECRET, "msg_1", b"{}")
    old = sign(b"old-secret", "msg_1", b"{}", timestamp=int(headers[TIMESTAMP_HEADER]))
    headers[SIGNATURE_HEADER] = f"{old[SIGNATURE_HEADER]} {headers[SIGNATURE_HEADER]}"
    verify(SECRET, headers, b"{}")
