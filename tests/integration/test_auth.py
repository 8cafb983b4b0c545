import time
from typing import Any

import httpx
import jwt
from pydantic import SecretStr

from auth_service.app import create_app
from auth_service.config import AuthSettings
from tests.utils.servers import running
from tests.utils.settings import INTERNAL_TOKEN, JWT_SECRET, common

INTERNAL = {"x-internal-token": INTERNAL_TOKEN}


def _settings(database_url: str, **extra: Any) -> AuthSettings:
    return AuthSettings(
        **common(database_url=database_url), jwt_secret=SecretStr(JWT_SECRET), **extra
    )


async def test_register_login_validate(database_url: str) -> None:
    async with (
        running(create_app(_settings(database_url))) as url,
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
            "/internal/validate", json={"token": body["access_token"]}, headers=INTERNAL
        )
        assert valid.status_code == 200 and valid.json()["userId"] == body["userId"]
        no_cred = await http.post("/internal/validate", json={"token": body["access_token"]})
        assert no_cred.status_code == 403


async def test_password_is_stored_as_argon2id(database_url: str) -> None:
    import asyncpg

    async with (
        running(create_app(_settings(database_url))) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        await http.post(
            "/v1/auth/register", json={"email": "b@example.com", "password": "s3cret-pass"}
        )
    conn = await asyncpg.connect(database_url)
    stored = await conn.fetchval("SELECT password_hash FROM users")
    await conn.close()
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored


async def test_hostile_tokens_rejected(database_url: str) -> None:
    async with (
        running(create_app(_settings(database_url))) as url,
        httpx.AsyncClient(base_url=url, headers=INTERNAL) as http,
    ):
        user = (
            await http.post(
                "/v1/auth/register", json={"email": "c@example.com", "password": "password123"}
            )
        ).json()
        now = int(time.time())
        claims = {
            "sub": user["userId"],
            "iat": now,
            "exp": now + 60,
            "iss": "satyamark-auth",
            "aud": "satyamark",
        }
        hostile = {
            "expired": jwt.encode({**claims, "iat": now - 100, "exp": now - 50}, JWT_SECRET),
            "forged": jwt.encode(claims, "another-secret-" * 5),
            "wrong-audience": jwt.encode({**claims, "aud": "other"}, JWT_SECRET),
            "wrong-issuer": jwt.encode({**claims, "iss": "evil"}, JWT_SECRET),
            "no-exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, JWT_SECRET),
            "alg-none": jwt.encode(claims, None, algorithm="none"),  # type: ignore[arg-type]
            "hs512": jwt.encode(claims, JWT_SECRET, algorithm="HS512"),
            "garbage": "not.a.jwt",
            "huge": "a" * 5000,
        }
        for name, token in hostile.items():
            answer = await http.post("/internal/validate", json={"token": token})
            assert answer.status_code == 401, name
            assert answer.json()["errorCode"] == "AUTH-TOKEN-401", name


async def test_bad_register_bodies(database_url: str) -> None:
    async with (
        running(create_app(_settings(database_url))) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        for body in (
            {"email": "not-an-email", "password": "password123"},
            {"email": "d@example.com", "password": "short"},
            {"email": "d@example.com", "password": "password123", "admin": True},
            {},
        ):
            answer = await http.post("/v1/auth/register", json=body)
            assert answer.status_code == 422, body
            assert answer.json()["errorCode"] == "AUTH-VAL-422"
