"""Refresh tokens: rotated on every use, a spent one presented again revokes its login's
whole family; against real auth_service, ratelimit_service, gateway and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import asyncpg
import httpx

from auth_service.refresh import RefreshTokens
from tests.integration.auth_helpers import PASSWORD, auth_client, auth_gateway, register
from tests.utils.settings import SIGNED


async def _login(http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    answer = await http.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/v1/auth/refresh", json={"refresh_token": token})


async def _user_of(http: httpx.AsyncClient, access_token: str) -> int | str:
    answer = await http.post("/internal/validate", json={"token": access_token}, auth=SIGNED)
    return str(answer.json()["userId"]) if answer.status_code == 200 else answer.status_code


def _refused(answer: httpx.Response, code: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json()["errorCode"] == code, answer.text


async def test_refresh_rotates_the_pair(database_url: str, redis_url: str) -> None:
    async with auth_client(database_url, redis_url) as http:
        first = await register(http, "rot@example.com")
        assert first["refresh_expires_in"] == 30 * 24 * 3600
        assert len(first["refresh_token"]) >= 43
        second = await _refresh(http, first["refresh_token"])
        assert second.status_code == 200, second.text
        pair = second.json()
        assert pair["userId"] == first["userId"] and pair["token_type"] == "bearer"
        assert pair["refresh_token"] != first["refresh_token"]
        assert pair["access_token"] != first["access_token"]
        assert await _user_of(http, pair["access_token"]) == first["userId"]
        # the new refresh token works (once); the spent one never again
        third = await _refresh(http, pair["refresh_token"])
        assert third.status_code == 200, third.text
        _refused(await _refresh(http, first["refresh_token"]), "AUTH-REUSE-401")

    conn = await asyncpg.connect(database_url)
    stored = await conn.fetch("SELECT token_hash, used_at FROM refresh_tokens")
    await conn.close()
    # only digests are stored; two of the three tokens are spent
    assert len(stored) == 3 and sum(r["used_at"] is not None for r in stored) == 2
    digest = hashlib.sha256(third.json()["refresh_token"].encode()).hexdigest()
    assert digest in {r["token_hash"] for r in stored}
    plain = {first["refresh_token"], pair["refresh_token"], third.json()["refresh_token"]}
    assert not plain & {r["token_hash"] for r in stored}


async def test_reuse_revokes_the_whole_family(database_url: str, redis_url: str) -> None:
    async with auth_client(database_url, redis_url) as http:
        phone = await register(http, "fam@example.com")
        laptop = await _login(http, "fam@example.com")  # another login: another family
        spent = phone["refresh_token"]
        newer = (await _refresh(http, spent)).json()["refresh_token"]
        newest = (await _refresh(http, newer)).json()["refresh_token"]

        # a thief replays a spent token: refused, and the family is over
        reused = await _refresh(http, newer)
        _refused(reused, "AUTH-REUSE-401")
        assert "log in again" in reused.json()["message"]
        _refused(await _refresh(http, newest), "AUTH-REFRESH-401")
        _refused(await _refresh(http, spent), "AUTH-REUSE-401")
        # the other login is untouched
        assert (await _refresh(http, laptop["refresh_token"])).status_code == 200


async def test_concurrent_double_use_lets_exactly_one_through(
    database_url: str, redis_url: str
) -> None:
    async with auth_client(database_url, redis_url) as http:
        await register(http, "race@example.com")
        tokens = [(await _login(http, "race@example.com"))["refresh_token"] for _ in range(8)]
        # every token raced by two requests at once, all families together
        answers = await asyncio.gather(*(_refresh(http, t) for t in tokens for _ in range(2)))
        for index in range(len(tokens)):
            pair = answers[2 * index : 2 * index + 2]
            assert sorted(a.status_code for a in pair) == [200, 401], [a.text for a in pair]
            loser = next(a for a in pair if a.status_code == 401)
            assert loser.json()["errorCode"] == "AUTH-REUSE-401"

    conn = await asyncpg.connect(database_url)
    per_family = await conn.fetch(
        "SELECT count(*) AS n, count(used_at) AS spent FROM refresh_tokens GROUP BY family_id"
    )
    await conn.close()
    # the registration's family, and per raced token exactly one successor, never two
    assert sorted((r["n"], r["spent"]) for r in per_family) == [(1, 0)] + [(2, 1)] * len(tokens)


async def test_expired_refresh_token_is_refused(database_url: str, redis_url: str) -> None:
    async with auth_client(database_url, redis_url, refresh_ttl_s=1) as http:
        user = await register(http, "exp@example.com")
        assert user["refresh_expires_in"] == 1
        await asyncio.sleep(1.3)
        _refused(await _refresh(http, user["refresh_token"]), "AUTH-REFRESH-401")
        # a fresh login still works
        fresh = await _login(http, "exp@example.com")
        assert (await _refresh(http, fresh["refresh_token"])).status_code == 200


async def test_expired_tokens_are_purged(database_url: str, redis_url: str) -> None:
    async with auth_client(database_url, redis_url, refresh_ttl_s=1) as http:
        user = await register(http, "purge@example.com")
        assert (await _refresh(http, user["refresh_token"])).status_code == 200
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    store = RefreshTokens(pool, ttl_s=1)
    assert await store.purge_expired() == 0  # nothing has expired yet
    await asyncio.sleep(1.3)
    assert await store.purge_expired() == 3  # the family and its two tokens
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens") == 0
    await pool.close()


async def test_logout_with_refresh_token_revokes_its_family(
    database_url: str, redis_url: str
) -> None:
    async with auth_client(database_url, redis_url) as http:
        mine = await register(http, "out@example.com")
        other = await register(http, "other@example.com")
        rotated = (await _refresh(http, mine["refresh_token"])).json()
        bearer = {"Authorization": f"Bearer {rotated['access_token']}"}

        # someone else's refresh token is left alone (and the logout still happens)
        other_bearer = {"Authorization": f"Bearer {other['access_token']}"}
        body = {"refresh_token": rotated["refresh_token"]}
        other_logout = await http.post("/v1/auth/logout", json=body, headers=other_bearer)
        assert other_logout.status_code == 204
        assert await _user_of(http, other["access_token"]) == 401

        assert (await http.post("/v1/auth/logout", json=body, headers=bearer)).status_code == 204
        _refused(await _refresh(http, rotated["refresh_token"]), "AUTH-REFRESH-401")
        assert await _user_of(http, rotated["access_token"]) == 401
        # a spent token of the logged-out family is still treated as stolen
        _refused(await _refresh(http, mine["refresh_token"]), "AUTH-REUSE-401")

        # without a body logout is what it was: the access token only
        kept = await _login(http, "out@example.com")
        kept_bearer = {"Authorization": f"Bearer {kept['access_token']}"}
        assert (await http.post("/v1/auth/logout", headers=kept_bearer)).status_code == 204
        assert (await _refresh(http, kept["refresh_token"])).status_code == 200


def _with_token(token: object) -> bytes:
    return json.dumps({"refresh_token": token}).encode()


# (what, raw JSON body, expected status): a refresh_token that is no usable string, or
# a body that is no {"refresh_token": …} object, is invalid; any other string is no token
_HOSTILE_BODIES: list[tuple[str, bytes, int]] = [
    *(
        (what, _with_token(token), 422)
        for what, token in {
            "huge string": "a" * 5000,
            "number": 12345,
            "null": None,
            "list": ["a"],
            "object": {"$ne": ""},
            "empty string": "",
            "lone surrogate": "\ud800abc",
        }.items()
    ),
    ("extra field", b'{"refresh_token": "abc", "user_id": "x"}', 422),
    ("no field", b"{}", 422),
    ("not an object", b'"abc"', 422),
    ("broken JSON", b'{"refresh_token": ', 422),
    ("unicode", b'{"refresh_token": "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x94\x91"}', 401),
    ("malformed token", _with_token("not a token; DROP TABLE users"), 401),
    ("NUL", _with_token("abc\x00def"), 401),
]


async def _hostile(http: httpx.AsyncClient, prefix: str) -> None:
    for what, raw, expected in _HOSTILE_BODIES:
        answer = await http.post(
            "/v1/auth/refresh", content=raw, headers={"content-type": "application/json"}
        )
        assert answer.status_code == expected, (what, answer.text)
        code = answer.json()["errorCode"]
        assert code == "AUTH-REFRESH-401" if expected == 401 else code.startswith(prefix), what


async def test_hostile_refresh_bodies_get_4xx(database_url: str, redis_url: str) -> None:
    async with auth_client(database_url, redis_url) as http:
        await _hostile(http, "AUTH-")


async def test_refresh_and_logout_through_the_gateway(database_url: str, redis_url: str) -> None:
    async with (
        auth_gateway(database_url, redis_url) as url,
        httpx.AsyncClient(base_url=url) as api,
    ):
        user = await register(api, "gw@example.com")
        answer = await _refresh(api, user["refresh_token"])
        assert answer.status_code == 200, answer.text
        assert "RateLimit-Remaining" in answer.headers
        pair = answer.json()
        assert set(pair) == {
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "refresh_expires_in",
            "userId",
        }
        _refused(await _refresh(api, user["refresh_token"]), "AUTH-REUSE-401")

        again = (await _login(api, "gw@example.com"))["refresh_token"]
        bearer = {
            "Authorization": f"Bearer {(await _login(api, 'gw@example.com'))['access_token']}"
        }
        # logout without a body (and so without a content type) works as before
        assert (await api.post("/v1/auth/logout", headers=bearer)).status_code == 204
        assert (await _refresh(api, again)).status_code == 200

        login = await _login(api, "gw@example.com")
        current = (await _refresh(api, login["refresh_token"])).json()
        bearer = {"Authorization": f"Bearer {current['access_token']}"}
        body = {"refresh_token": current["refresh_token"]}
        assert (await api.post("/v1/auth/logout", json=body, headers=bearer)).status_code == 204
        _refused(await _refresh(api, current["refresh_token"]), "AUTH-REFRESH-401")

        for body in ({"refresh_token": "x", "more": 1}, {"refresh_token": 7}):
            bad = await api.post("/v1/auth/logout", json=body, headers=bearer)
            assert bad.status_code == 422 and bad.json()["errorCode"] == "GW-VAL-422"
        text = await api.post(
            "/v1/auth/refresh", content=b"x", headers={"content-type": "text/plain"}
        )
        assert text.status_code == 415 and text.json()["errorCode"] == "GW-VAL-415"
        await _hostile(api, "GW-")
