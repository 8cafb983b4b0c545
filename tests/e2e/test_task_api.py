"""What platforms need of tasks, through the public API on the real stack: listing
one's own tasks a page at a time and submitting safely again (Idempotency-Key)."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from ulid import ULID

from satyamark.devstack import Stack
from tests.e2e.test_pipeline import _bearer, _register

pytestmark = pytest.mark.e2e


async def _verify(
    api: httpx.AsyncClient, token: str, text: str, key: str | None = None
) -> httpx.Response:
    headers = _bearer(token) | ({"Idempotency-Key": key} if key else {})
    return await api.post("/v1/verify", json={"text": text}, headers=headers)


async def test_tasks_are_listed_newest_first_a_page_at_a_time(api: httpx.AsyncClient) -> None:
    user, other = await _register(api, "lister"), await _register(api, "other")
    token = user["access_token"]
    submitted = []
    for i in range(5):
        answer = await _verify(api, token, f"Listing claim number {i} {ULID()} is true.")
        assert answer.status_code in (200, 202), answer.text
        submitted.append(answer.json()["taskId"])
    await _verify(api, other["access_token"], "Someone else's claim is not listed.")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await api.get("/v1/tasks", params=params, headers=_bearer(token))
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [item["taskId"] for item in body["items"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(submitted)) and pages == 3
    first = (await api.get("/v1/tasks", headers=_bearer(token))).json()["items"][0]
    assert set(first) >= {"taskId", "status", "result", "error", "stages", "createdAt"}

    queued = await api.get("/v1/tasks", params={"status": "failed"}, headers=_bearer(token))
    assert queued.status_code == 200 and queued.json() == {"items": [], "nextCursor": None}
    for params in ({"limit": 0}, {"limit": 101}, {"status": "lost"}, {"cursor": "not/a/cursor"}):
        bad = await api.get("/v1/tasks", params=params, headers=_bearer(token))
        assert bad.status_code == 422, (params, bad.text)
    assert (await api.get("/v1/tasks")).status_code == 401


async def test_a_retried_submission_with_its_key_gets_the_first_task(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    user = await _register(api, "retrier")
    token, key, text = user["access_token"], str(ULID()), f"Retried claim {ULID()} is true."
    first = await _verify(api, token, text, key)
    assert first.status_code in (200, 202), first.text
    again = await _verify(api, token, text, key)
    assert again.status_code == first.status_code and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers

    other_text = await _verify(api, token, text + " Not the same.", key)
    assert other_text.status_code == 422 and other_text.json()["errorCode"] == "GW-IDEM-422"
    # keys are per caller: another account's same key is its own
    someone = await _register(api, "someone")
    theirs = await _verify(api, someone["access_token"], text, key)
    assert theirs.json()["taskId"] != first.json()["taskId"]
    for bad_key in ("", "x" * 256, "white space"):
        headers = _bearer(token) | {"Idempotency-Key": bad_key}
        bad = await api.post("/v1/verify", json={"text": text}, headers=headers)
        assert bad.status_code == 422, (bad_key, bad.text)


async def test_racing_submissions_with_one_key_make_one_task(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    user = await _register(api, "racer")
    token, key, text = user["access_token"], str(ULID()), f"Racing claim {ULID()} is false."
    answers = await asyncio.gather(*(_verify(api, token, text, key) for _ in range(6)))
    assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]
    assert len({a.json()["taskId"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
    db = await asyncpg.connect(stack.database_url)
    try:
        rows = await db.fetchval(
            "SELECT count(*) FROM ai_results WHERE user_id = $1", user["userId"]
        )
    finally:
        await db.close()
    assert rows == 1
