"""Signed service-to-service requests: the signature, the window, keys and rotation."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from fastapi import FastAPI, Request
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from shared.config import CommonSettings
from shared.http import InternalClient
from shared.service_auth import (
    KEY_ID_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    SIGNED_HEADERS,
    TIMESTAMP_HEADER,
    InternalSigner,
    Keyring,
    MemoryReplayWindow,
    ServiceAuthError,
    Verified,
    request_target,
    sign_headers,
    verify_signature,
)
from tests.utils.servers import running

K1 = "k1-secret-0123456789abcdef0123456789"
K0 = "k0-secret-0123456789abcdef0123456789"
RING = Keyring({"k1": K1.encode(), "k0": K0.encode()}, "k1")
NOW = 1_750_000_000

methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])
targets = st.from_regex(r"/[a-z0-9/_-]{0,40}(\?[a-z0-9=&]{1,20})?", fullmatch=True)
bodies = st.binary(max_size=500)


def _verify(method: str, target: str, headers: dict[str, str], body: bytes, **kw: object):  # type: ignore[no-untyped-def]
    return verify_signature(RING, method, target, headers, body, now=NOW, **kw)  # type: ignore[arg-type]


@given(methods, targets, bodies)
def test_signed_requests_verify(method: str, target: str, body: bytes) -> None:
    headers = sign_headers(RING, method, target, body, timestamp=NOW)
    verified = _verify(method, target, headers, body)
    assert verified.kid == "k1" and verified.timestamp == NOW
    assert verified.nonce == headers[NONCE_HEADER]


@given(
    methods,
    targets,
    bodies,
    st.sampled_from(["method", "path", "body", "timestamp", "key id", "nonce", "signature"]),
    st.data(),
)
def test_any_tampering_fails(
    method: str, target: str, body: bytes, part: str, data: st.DataObject
) -> None:
    headers = sign_headers(RING, method, target, body, timestamp=NOW)
    if part == "method":
        method = data.draw(methods.filter(lambda m: m != method))
    elif part == "path":
        target = data.draw(targets.filter(lambda t: t != target))
    elif part == "body":
        body = data.draw(bodies.filter(lambda b: b != body))
    elif part == "timestamp":
        # inside the window, so only the signature can catch it
        headers[TIMESTAMP_HEADER] = str(NOW + data.draw(st.integers(-30, 30).filter(bool)))
    elif part == "key id":
        headers[KEY_ID_HEADER] = data.draw(st.sampled_from(["k0", "k2", "default", "K1"]))
    elif part == "nonce":
        headers[NONCE_HEADER] = data.draw(
            st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True).filter(
                lambda n: n != headers[NONCE_HEADER]
            )
        )
    else:
        sig = headers[SIGNATURE_HEADER]
        i = data.draw(st.integers(3, len(sig) - 1))
        headers[SIGNATURE_HEADER] = sig[:i] + ("0" if sig[i] != "0" else "1") + sig[i + 1 :]
    with pytest.raises(ServiceAuthError):
        _verify(method, target, headers, body)


@given(st.dictionaries(st.sampled_from(SIGNED_HEADERS), st.text(max_size=80)))
def test_garbage_headers_never_verify_or_crash(headers: dict[str, str]) -> None:
    with pytest.raises(ServiceAuthError):
        _verify("POST", "/internal/check", headers, b"{}")


@pytest.mark.parametrize("missing", SIGNED_HEADERS)
def test_missing_header_is_named(missing: str) -> None:
    headers = sign_headers(RING, "POST", "/x", b"", timestamp=NOW)
    del headers[missing]
    with pytest.raises(ServiceAuthError, match="missing signature"):
        _verify("POST", "/x", headers, b"")


def test_unknown_key_id() -> None:
    other = Keyring.single("z" * 40, kid="k9")
    headers = sign_headers(other, "POST", "/x", b"", timestamp=NOW)
    with pytest.raises(ServiceAuthError, match="unknown key id"):
        _verify("POST", "/x", headers, b"")


@pytest.mark.parametrize("skew", [-61, 61, -3600, 10**6])
def test_stale_timestamps_are_refused(skew: int) -> None:
    headers = sign_headers(RING, "GET", "/x", b"", timestamp=NOW + skew)
    with pytest.raises(ServiceAuthError, match="stale"):
        _verify("GET", "/x", headers, b"")


@pytest.mark.parametrize("skew", [-60, 0, 60])
def test_window_edges_are_accepted(skew: int) -> None:
    headers = sign_headers(RING, "GET", "/x", b"", timestamp=NOW + skew)
    _verify("GET", "/x", headers, b"")


def test_window_is_configurable() -> None:
    headers = sign_headers(RING, "GET", "/x", b"", timestamp=NOW - 10)
    with pytest.raises(ServiceAuthError, match="stale"):
        _verify("GET", "/x", headers, b"", window_s=5)


def test_rotation_old_key_accepted_while_configured_then_refused() -> None:
    old = Keyring.single(K0, kid="k0")
    headers = sign_headers(old, "POST", "/x", b"{}", timestamp=NOW)
    # the new ring still lists k0: accepted
    assert _verify("POST", "/x", headers, b"{}").kid == "k0"
    # k0 removed: refused
    new_only = Keyring({"k1": K1.encode()}, "k1")
    with pytest.raises(ServiceAuthError, match="unknown key id"):
        verify_signature(new_only, "POST", "/x", headers, b"{}", now=NOW)


def test_same_kid_with_a_changed_secret_is_refused() -> None:
    headers = sign_headers(Keyring.single("a" * 40, kid="k1"), "GET", "/x", b"", timestamp=NOW)
    with pytest.raises(ServiceAuthError, match="bad signature"):
        _verify("GET", "/x", headers, b"")


def test_memory_window_refuses_a_second_use_and_forgets_old_seconds() -> None:
    window = MemoryReplayWindow(window_s=60)
    now = 1_000_000.0
    first = Verified(kid="default", timestamp=int(now), nonce="n1")
    assert window.remember(first, now)
    assert not window.remember(first, now + 59)  # still inside the window: a replay
    # the same nonce under another key id or second is another signed request
    assert window.remember(Verified("k2", int(now), "n1"), now)
    assert window.remember(Verified("default", int(now) + 1, "n1"), now)
    for i in range(1000):
        window.remember(Verified("default", int(now) + 2, f"x{i}"), now + 2)
    assert len(window) == 1003
    # once no timestamp of those seconds can pass verify_signature, they are dropped
    window.remember(Verified("default", int(now) + 64, "late"), now + 64)
    assert len(window) == 1


def test_nonces_are_fresh_per_request() -> None:
    seen = {sign_headers(RING, "GET", "/x", b"")[NONCE_HEADER] for _ in range(200)}
    assert len(seen) == 200


async def test_httpx_auth_signs_what_is_sent() -> None:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(
        base_url="http://svc", transport=httpx.MockTransport(handler), auth=InternalSigner(RING)
    ) as client:
        await client.post("/internal/check?a=1&b=%20", json={"x": 1})
        await client.get("/internal/tasks/01ABC")
    post, get = captured
    assert post.url.raw_path == b"/internal/check?a=1&b=%20"
    now = time.time()
    verify_signature(RING, "POST", "/internal/check?a=1&b=%20", post.headers, post.content, now=now)
    verify_signature(RING, "GET", "/internal/tasks/01ABC", get.headers, b"", now=now)
    assert post.headers[NONCE_HEADER] != get.headers[NONCE_HEADER]


async def test_internal_client_signs_what_it_sends_and_only_with_keys() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    app = FastAPI()

    @app.api_route("/internal/{rest:path}", methods=["GET", "POST"])
    async def record(request: Request) -> dict[str, bool]:
        seen.append((request_target(request), dict(request.headers), await request.body()))
        return {"ok": True}

    async with running(app) as url:
        signed = InternalClient(url, keyring=RING)
        plain = InternalClient(url)
        try:
            answer = await signed.post("/internal/check", params={"a": 1, "b": " é"}, json={"x": 1})
            assert answer.status_code == 200 and answer.json() == {"ok": True}
            await signed.get("/internal/tasks/01ABC")
            await plain.get("/internal/tasks/01ABC")
        finally:
            await signed.aclose()
            await plain.aclose()
    (post_target, post, body), (get_target, get, _), (_, unsigned, _) = seen
    assert post_target == "/internal/check?a=1&b=+%C3%A9"
    now = time.time()
    verify_signature(RING, "POST", post_target, post, body, now=now)
    verify_signature(RING, "GET", get_target, get, b"", now=now)
    assert post[NONCE_HEADER] != get[NONCE_HEADER]
    assert not set(SIGNED_HEADERS) & set(unsigned)


# -- settings --------------------------------------------------------------------------


def test_keyring_falls_back_to_the_internal_token() -> None:
    s = CommonSettings(env="test", internal_token=SecretStr("t" * 32))
    ring = Keyring.from_settings(s)
    assert ring.active_kid == "default" and ring.keys == {"default": b"t" * 32}


def test_keyring_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATYAMARK_INTERNAL_KEYS", json.dumps({"k1": K1, "k0": K0}))
    monkeypatch.setenv("SATYAMARK_INTERNAL_ACTIVE_KID", "k1")
    monkeypatch.setenv("SATYAMARK_INTERNAL_AUTH_WINDOW_S", "30")
    s = CommonSettings()
    ring = Keyring.from_settings(s)
    assert ring.active_kid == "k1" and set(ring.keys) == {"k1", "k0"}
    assert s.internal_auth_window_s == 30


def test_single_key_needs_no_active_kid() -> None:
    s = CommonSettings(env="test", internal_keys={"only": SecretStr(K1)})
    assert Keyring.from_settings(s).active_kid == "only"


@pytest.mark.parametrize(
    ("keys", "active", "match"),
    [
        ({"k1": K1, "k0": K0}, None, "ACTIVE_KID"),
        ({"k1": K1}, "k2", "not a configured key"),
        ({}, "k2", "not a configured key"),
        ({"bad id": K1}, None, "spaces"),
    ],
)
def test_bad_key_settings_are_refused(keys: dict[str, str], active: str | None, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        CommonSettings(
            env="test",
            internal_keys={k: SecretStr(v) for k, v in keys.items()},
            internal_active_kid=active,
        )


def test_production_refuses_short_internal_keys() -> None:
    with pytest.raises(ValidationError, match=r"internal_keys\[k0\] is shorter than 32"):
        CommonSettings(
            env="production",
            internal_keys={"k1": SecretStr(K1), "k0": SecretStr("short")},
            internal_active_kid="k1",
        )
    with pytest.raises(ValidationError, match="internal_token is shorter"):
        CommonSettings(env="production", internal_token=SecretStr("x" * 31))


def test_production_with_keys_does_not_need_the_internal_token() -> None:
    s = CommonSettings(
        env="production",
        internal_keys={"k1": SecretStr(K1), "k0": SecretStr(K0)},
        internal_active_kid="k1",
    )
    assert Keyring.from_settings(s).active_kid == "k1"
