"""API keys for platforms, through the public API on the real stack: created with a
login, used like a token (API and WebSocket), limited to their scopes and revoked on
every gateway at once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets

from satyamark.devstack import Stack
from tests.e2e.test_pipeline import _bearer, _drain, _register, _socket

pytestmark = pytest.mark.e2e


async def _new_key(api: httpx.AsyncClient, token: str, **body: object) -> dict[str, Any]:
    answer = await api.post("/v1/api-keys", json={"name": "cms", **body}, headers=_bearer(token))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
async def second_gateway(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    url = stack.add_gateway()
    name = next(n for n, c in stack.components.items() if c.port == int(url.rsplit(":", 1)[1]))
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
    finally:
        stack.remove(name)


async def test_a_key_is_shown_once_and_works_like_a_token(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    login = (await _register(api, "platform"))["access_token"]
    key = await _new_key(api, login)
    assert key["key"].startswith(key["prefix"] + "_") and key["prefix"].startswith("sm_live_")
    assert sorted(key["scopes"]) == ["tasks:read", "verify"]
    assert key["expiresAt"] is None and key["lastUsedAt"] is None

    listed = (await api.get("/v1/api-keys", headers=_bearer(login))).json()["items"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert "key" not in listed[0] and key["key"].split("_")[-1] not in json.dumps(listed)

    # the result of a task submitted with the key is pushed to a socket opened with it
    ws = await _socket(stack, key["key"], first_message=True)
    try:
        submitted = await api.post(
            "/v1/verify",
            json={"text": "Paris is the capital of France."},
            headers=_bearer(key["key"]),
        )
        assert submitted.status_code in (200, 202), submitted.text
        task_id = submitted.json()["taskId"]
        if submitted.status_code == 202:
            events = await _drain(ws, 1)
            assert [e["taskId"] for e in events] == [task_id]
    finally:
        await ws.close()
    task = await api.get(f"/v1/tasks/{task_id}", headers=_bearer(key["key"]))
    assert task.status_code == 200 and task.json()["taskId"] == task_id
    # the same task through the owner's login: a key acts as its owner
    assert (await api.get(f"/v1/tasks/{task_id}", headers=_bearer(login))).status_code == 200

    listed = (await api.get("/v1/api-keys", headers=_bearer(login))).json()["items"]
    assert listed[0]["lastUsedAt"] is not None


async def test_a_key_may_do_only_what_its_scopes_say(api: httpx.AsyncClient) -> None:
    user = await _register(api, "reader")
    reader = await _new_key(api, user["access_token"], scopes=["tasks:read"])
    refused = await api.post(
        "/v1/verify", json={"text": "Water is wet."}, headers=_bearer(reader["key"])
    )
    assert refused.status_code == 403 and refused.json()["errorCode"] == "GW-SCOPE-403"
    missing = await api.get("/v1/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=_bearer(reader["key"]))
    assert missing.status_code == 404  # allowed to read; there is no such task

    # keys never manage keys, and never act as an admin
    for method, path in (("GET", "/v1/api-keys"), ("DELETE", f"/v1/api-keys/{reader['id']}")):
        answer = await api.request(method, path, headers=_bearer(reader["key"]))
        assert answer.status_code == 403 and answer.json()["errorCode"] == "GW-SCOPE-403"
    minted = await api.post("/v1/api-keys", json={"name": "x"}, headers=_bearer(reader["key"]))
    assert minted.status_code == 403


async def test_bad_keys_and_bad_requests_get_clear_errors(api: httpx.AsyncClient) -> None:
    login = (await _register(api, "careless"))["access_token"]
    key = await _new_key(api, login)
    forged = key["key"][:-4] + ("0000" if not key["key"].endswith("0000") else "1111")
    for token in (forged, "sm_live_nothing", "sm_live_" + "a" * 16 + "_" + "b" * 64):
        answer = await api.get("/v1/api-keys", headers=_bearer(token))
        assert answer.status_code == 401, (token, answer.text)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    expired = await api.post(
        "/v1/api-keys", json={"name": "old", "expiresAt": past}, headers=_bearer(login)
    )
    assert expired.status_code == 422 and expired.json()["errorCode"] == "AUTH-KEY-422"
    for body in ({"name": ""}, {"name": "x", "scopes": ["admin"]}, {"name": "x", "scopes": []}):
        answer = await api.post("/v1/api-keys", json=body, headers=_bearer(login))
        assert answer.status_code == 422, (body, answer.text)
    gone = await api.delete("/v1/api-keys/0000000000000000", headers=_bearer(login))
    assert gone.status_code == 404 and gone.json()["errorCode"] == "AUTH-KEY-404"
    other = await _register(api, "other")
    theirs = await api.delete(f"/v1/api-keys/{key['id']}", headers=_bearer(other["access_token"]))
    assert theirs.status_code == 404  # someone else's key is not there for them


async def test_a_key_stops_working_when_it_expires(api: httpx.AsyncClient) -> None:
    user = await _register(api, "brief")
    soon = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    key = await _new_key(api, user["access_token"], expiresAt=soon)
    path = "/v1/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert (await api.get(path, headers=_bearer(key["key"]))).status_code == 404  # accepted
    await asyncio.sleep(4)
    assert (await api.get(path, headers=_bearer(key["key"]))).status_code == 401


async def test_a_revoked_key_is_refused_by_every_gateway_within_5s(
    stack: Stack, api: httpx.AsyncClient, second_gateway: httpx.AsyncClient
) -> None:
    user = await _register(api, "revoker")
    key = await _new_key(api, user["access_token"])
    ws = await _socket(stack, key["key"], first_message=True)  # open until the revocation
    path = "/v1/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for gateway in (api, second_gateway):  # each has validated (and cached) the key
        for _ in range(3):
            assert (await gateway.get(path, headers=_bearer(key["key"]))).status_code == 404
    revoked = await api.delete(f"/v1/api-keys/{key['id']}", headers=_bearer(user["access_token"]))
    assert revoked.status_code == 204
    started = time.monotonic()
    refused: dict[int, float] = {}
    while len(refused) < 2 and time.monotonic() - started < 10:
        for i, gateway in enumerate((api, second_gateway)):
            if i not in refused:
                answer = await gateway.get(path, headers=_bearer(key["key"]))
                if answer.status_code == 401:
                    refused[i] = time.monotonic() - started
        await asyncio.sleep(0.05)
    assert len(refused) == 2 and max(refused.values()) < 5, refused
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    listed = (await api.get("/v1/api-keys", headers=_bearer(user["access_token"]))).json()
    assert listed["items"] == []


async def test_calls_with_a_key_spend_its_own_bucket(api: httpx.AsyncClient) -> None:
    """``tasks-key`` is 30 per key here (tests/e2e/conftest.py): the key runs out while
    its owner's login, with a bucket of 120, still gets through."""
    user = await _register(api, "busy")
    key = await _new_key(api, user["access_token"])
    path = "/v1/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV"
    statuses = [(await api.get(path, headers=_bearer(key["key"]))).status_code for _ in range(32)]
    assert statuses.count(429) >= 1 and statuses[0] == 404, statuses
    assert (await api.get(path, headers=_bearer(user["access_token"]))).status_code == 404
