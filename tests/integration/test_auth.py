import base64
import hashlib
import hmac
import json
import time
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr, ValidationError

from auth_service.app import create_app
from auth_service.config import AuthSettings
from auth_service.keyring import load_private_pem, new_private_pem
from shared import keys
from tests.integration.auth_helpers import KEY_A, KEY_B, auth_and_ratelimit
from tests.utils.redis import redis_client
from tests.utils.settings import SIGNED


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 by hand: pyjwt refuses to use a public key as an HMAC secret, attackers don't."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def _eddsa(claims: dict[str, Any], pem: str, kid: str | None) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, load_private_pem(pem, "t"), algorithm="EdDSA", headers=headers)


async def _register(http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    answer = await http.post("/v1/auth/register", json={"email": email, "password": "s3cret-pass"})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_register_login_validate(database_url: str, redis_url: str) -> None:
    async with (
        auth_and_ratelimit(database_url, redis_url) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        creds = {"email": "Ada@Example.com", "password": "correct horse"}
        created = await http.post("/v1/auth/register", json=creds)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 3600

        again = await http.post("/v1/auth/register", json={**creds, "email": "ada@example.com"})
        assert again.status_code == 409 and again.json()["errorCode"] == "AUTH-CONF-409"

        login = await http.post(
            "/v1/auth/login", json={"email": "ada@EXAMPLE.com", "password": "correct horse"}
        )
        assert login.status_code == 200 and login.json()["userId"] == body["userId"]

        for wrong in (
            {"email": "ada@example.com", "password": "wrong horse"},
            {"email": "nobody@example.com", "password": "correct horse"},
        ):
            denied = await http.post("/v1/auth/login", json=wrong)
            assert denied.status_code == 401
            assert denied.json() == {
                "errorCode": "AUTH-CRED-401",
                "message": "e-mail or password is wrong",
            }

        valid = await http.post(
            "/internal/validate", json={"token": body["access_token"]}, auth=SIGNED
        )
        assert valid.status_code == 200 and valid.json()["userId"] == body["userId"]
        no_cred = await http.post("/internal/validate", json={"token": body["access_token"]})
        assert no_cred.status_code == 403

        header = jwt.get_unverified_header(body["access_token"])
        assert header["alg"] == "EdDSA" and header["kid"] == KEY_A[0]
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert set(claims) >= {"sub", "iat", "exp", "iss", "aud", "jti"}
        assert claims["exp"] - claims["iat"] == 3600


async def test_password_is_stored_as_argon2id(database_url: str, redis_url: str) -> None:
    async with (
        auth_and_ratelimit(database_url, redis_url) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        await _register(http, "b@example.com")
    conn = await asyncpg.connect(database_url)
    stored = await conn.fetchval("SELECT password_hash FROM users")
    await conn.close()
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored


async def test_common_passwords_are_refused(database_url: str, redis_url: str) -> None:
    async with (
        auth_and_ratelimit(database_url, redis_url) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        for password in ("password123", "PassWord123", "qwertyuiop", "iloveyou1", "12345678"):
            answer = await http.post(
                "/v1/auth/register", json={"email": "w@example.com", "password": password}
            )
            assert answer.status_code == 422, password
            assert answer.json()["errorCode"] == "AUTH-PWD-422", password
            assert "common" in answer.json()["message"], password
        fine = {"email": "w@example.com", "password": "tangerine-otter-42"}
        assert (await http.post("/v1/auth/register", json=fine)).status_code == 201


async def test_hostile_tokens_rejected(database_url: str, redis_url: str) -> None:
    async with (
        auth_and_ratelimit(database_url, redis_url) as url,
        httpx.AsyncClient(base_url=url, auth=SIGNED) as http,
    ):
        user = await _register(http, "c@example.com")
        now = int(time.time())
        claims = {
            "sub": user["userId"],
            "iat": now,
            "exp": now + 60,
            "iss": "satyamark-auth",
            "aud": "satyamark",
            "jti": "01J0000000000000000000000",
        }
        kid, pem = KEY_A
        public = load_private_pem(pem, kid).public_key()
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        public_raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        other = new_private_pem()
        ec_key = ec.generate_private_key(ec.SECP256R1())
        # the real key signs well-formed claims: only the claim under test is wrong
        good = await http.post("/internal/validate", json={"token": _eddsa(claims, pem, kid)})
        assert good.status_code == 200, good.text
        hostile = {
            "expired": _eddsa({**claims, "iat": now - 100, "exp": now - 50}, pem, kid),
            "forged (other key, same kid)": _eddsa(claims, other, kid),
            "unknown kid": _eddsa(claims, other, "key-z"),
            "no kid": _eddsa(claims, pem, None),
            "wrong-audience": _eddsa({**claims, "aud": "other"}, pem, kid),
            "wrong-issuer": _eddsa({**claims, "iss": "evil"}, pem, kid),
            "no-exp": _eddsa({k: v for k, v in claims.items() if k != "exp"}, pem, kid),
            "no-jti": _eddsa({k: v for k, v in claims.items() if k != "jti"}, pem, kid),
            "alg-none": jwt.encode(claims, None, algorithm="none", headers={"kid": kid}),  # type: ignore[arg-type]
            "hs256 with public PEM": _hs256(claims, public_pem, kid),
            "hs256 with raw public key": _hs256(claims, public_raw, kid),
            "es256": jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": kid}),
            "garbage": "not.a.jwt",
            "huge": "a" * 5000,
        }
        for name, token in hostile.items():
            answer = await http.post("/internal/validate", json={"token": token})
            assert answer.status_code == 401, name
            assert answer.json()["errorCode"] == "AUTH-TOKEN-401", name


async def test_key_rotation(database_url: str, redis_url: str) -> None:
    async def validate(url: str, token: str) -> int:
        async with httpx.AsyncClient(base_url=url, auth=SIGNED) as http:
            return (await http.post("/internal/validate", json={"token": token})).status_code

    async with auth_and_ratelimit(database_url, redis_url, keys=(KEY_A,)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            old = (await _register(http, "r@example.com"))["access_token"]
    async with auth_and_ratelimit(
        database_url, redis_url, keys=(KEY_A, KEY_B), active=KEY_B[0]
    ) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            login = {"email": "r@example.com", "password": "s3cret-pass"}
            new = (await http.post("/v1/auth/login", json=login)).json()["access_token"]
            jwks = (await http.get("/.well-known/jwks.json")).json()
        assert jwt.get_unverified_header(new)["kid"] == KEY_B[0]
        assert {k["kid"] for k in jwks["keys"]} == {KEY_A[0], KEY_B[0]}
        assert await validate(url, old) == 200 and await validate(url, new) == 200
    async with auth_and_ratelimit(database_url, redis_url, keys=(KEY_B,)) as url:
        assert await validate(url, old) == 401  # its key is gone
        assert await validate(url, new) == 200


async def test_jwks_publishes_public_keys_only(database_url: str, redis_url: str) -> None:
    async with (
        auth_and_ratelimit(database_url, redis_url) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        token = (await _register(http, "j@example.com"))["access_token"]
        answer = await http.get("/.well-known/jwks.json")
    assert answer.status_code == 200 and "max-age" in answer.headers["cache-control"]
    (jwk,) = answer.json()["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}  # no private "d"
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["kid"]) == ("OKP", "Ed25519", "EdDSA", "key-a")
    assert len(base64.urlsafe_b64decode(jwk["x"] + "==")) == 32
    # a third party verifies our tokens with nothing but the published key
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], audience="satyamark")
    assert claims["iss"] == "satyamark-auth"


async def test_logout_revokes_the_token(database_url: str, redis_url: str) -> None:
    async with (
        auth_and_ratelimit(database_url, redis_url, jwt_ttl_s=600) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        token = (await _register(http, "l@example.com"))["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await http.post("/v1/auth/logout")).status_code == 401
        assert (await http.post("/v1/auth/logout", headers=bearer)).status_code == 204
        denied = await http.post("/internal/validate", json={"token": token}, auth=SIGNED)
        assert denied.status_code == 401 and denied.json()["message"] == "token has been revoked"
        assert (await http.post("/v1/auth/logout", headers=bearer)).status_code == 401
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    client = redis_client(redis_url)
    ttl = await client.ttl(keys.revoked_jti(jti))
    await client.aclose()
    assert 590 < ttl <= 612  # gone once the token would have expired anyway


def test_key_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_JWT_KEYS", raising=False)
    # refused either by AuthSettings or, first, by the short-secret rule (empty = short)
    with pytest.raises(ValidationError, match=r"AUTH_JWT_KEYS|jwt_keys is shorter than 32"):
        AuthSettings(env="production", internal_token=SecretStr("x" * 32))
    two = SecretStr(json.dumps(dict((KEY_A, KEY_B))))
    with pytest.raises(ValidationError, match="AUTH_JWT_ACTIVE_KID"):
        AuthSettings(jwt_keys=two)
    with pytest.raises(ValidationError, match="not in AUTH_JWT_KEYS"):
        AuthSettings(jwt_keys=two, jwt_active_kid="key-c")
    with pytest.raises(ValidationError, match="JSON object"):
        AuthSettings(jwt_keys=SecretStr('["pem"]'))
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        create_app(AuthSettings(jwt_keys=SecretStr(json.dumps({"k": ec_pem}))))
    monkeypatch.setenv("AUTH_JWT_KEYS", json.dumps(dict([KEY_A])))
    monkeypatch.setenv("SATYAMARK_ENV", "production")
    monkeypatch.setenv("SATYAMARK_INTERNAL_TOKEN", "x" * 32)
    monkeypatch.setenv("CALLBACK_SECRET", "y" * 32)
    assert AuthSettings().jwt_active_kid == ""  # one key: it signs
    # development without keys: a throw-away key, never an error
    monkeypatch.delenv("AUTH_JWT_KEYS")
    monkeypatch.setenv("SATYAMARK_ENV", "development")
    create_app(AuthSettings())


async def test_bad_register_bodies(database_url: str, redis_url: str) -> None:
    async with (
        auth_and_ratelimit(database_url, redis_url) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        for body in (
            {"email": "not-an-email", "password": "password-x1"},
            {"email": "d@example.com", "password": "short"},
            {"email": "d@example.com", "password": "password-x1", "admin": True},
            {},
        ):
            answer = await http.post("/v1/auth/register", json=body)
            assert answer.status_code == 422, body
            assert answer.json()["errorCode"] == "AUTH-VAL-422"
