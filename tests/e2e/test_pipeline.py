"""The whole system as real processes: 2 workers, 2 ws_service instances, one gateway.

Clients only use the public API (``/v1`` and the WebSocket), except where a test plays
an attacker talking to result_receiver directly.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import websockets
from ulid import ULID

from auth_service.keyring import load_private_pem, new_private_pem
from satyamark.devstack import Stack
from shared import keys
from shared.redis_client import create_sync_redis
from shared.signing import sign
from tests.e2e.conftest import VERIFY_BURST

pytestmark = pytest.mark.e2e


async def _register(api: httpx.AsyncClient, name: str) -> dict[str, str]:
    creds = {"email": f"{name}-{ULID().hex[-8:]}@example.com", "password": "password-123"}
    answer = await api.post("/v1/auth/register", json=creds)
    assert answer.status_code == 201, answer.text
    return {**creds, **answer.json()}


def _ws_url(stack: Stack) -> str:
    return stack.gateway_url.replace("http://", "ws://") + "/v1/ws"


async def _socket(stack: Stack, token: str, *, first_message: bool = False) -> Any:
    if first_message:  # the browser way
        ws = await websockets.connect(_ws_url(stack))
        await ws.send(json.dumps({"type": "auth", "token": token}))
    else:
        ws = await websockets.connect(
            _ws_url(stack), additional_headers={"Authorization": f"Bearer {token}"}
        )
    ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ready["type"] == "ready", ready
    return ws


async def _drain(ws: Any, want: int, wait_s: float = 60) -> list[dict[str, Any]]:
    """Collect ``want`` result events, then anything else that arrives in a short grace."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while len(events) < want and time.monotonic() < deadline:
        try:
            event = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        except TimeoutError:
            break
        if event.get("type") in ("result", "failed"):
            events.append(event)
    try:
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            if event.get("type") in ("result", "failed"):
                events.append(event)
    except TimeoutError:
        pass
    return events


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_each_user_gets_exactly_their_results(stack: Stack, api: httpx.AsyncClient) -> None:
    alice, bob = await _register(api, "alice"), await _register(api, "bob")
    # two sockets for alice land on the two ws_service instances (round-robin)
    alice_ws = [
        await _socket(stack, alice["access_token"]),
        await _socket(stack, alice["access_token"], first_message=True),
    ]
    bob_ws = await _socket(stack, bob["access_token"], first_message=True)
    client = create_sync_redis(stack.redis_url, timeout_s=5)
    instances = set(client.hvals(keys.ws_user(alice["userId"])))
    assert len(instances) == 2, "alice's sockets should be spread over both instances"

    alice_texts = [
        "The Great Wall of China is visible from space.",
        "Mount Everest is the highest mountain on Earth.",
        "I believe jazz is the finest kind of music.",
    ]
    bob_texts = ["Lightning never strikes the same place twice."]
    alice_tasks = set()
    for text in alice_texts:
        answer = await api.post(
            "/v1/verify", json={"text": text}, headers=_bearer(alice["access_token"])
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["queued"] is True
        alice_tasks.add(answer.json()["taskId"])
    bob_answer = await api.post(
        "/v1/verify", json={"text": bob_texts[0]}, headers=_bearer(bob["access_token"])
    )
    assert bob_answer.status_code == 202
    bob_tasks = {bob_answer.json()["taskId"]}

    for ws in alice_ws:
        events = await _drain(ws, len(alice_tasks))
        assert sorted(e["taskId"] for e in events) == sorted(alice_tasks)
        for event in events:
            assert event["type"] == "result"
            assert event["mark"] in {"Correct", "Incorrect", "Insufficient", "Subjective"}
            assert 0 <= event["confidence"] <= 100 and event["reason"]
    bob_events = await _drain(bob_ws, 1)
    assert [e["taskId"] for e in bob_events] == list(bob_tasks)

    conn = await asyncpg.connect(stack.database_url)
    rows = await conn.fetch(
        "SELECT id, user_id, status, mark FROM ai_results WHERE id = ANY($1)",
        list(alice_tasks | bob_tasks),
    )
    await conn.close()
    assert {r["id"]: (r["user_id"], r["status"]) for r in rows} == {
        **{t: (alice["userId"], "done") for t in alice_tasks},
        **{t: (bob["userId"], "done") for t in bob_tasks},
    }
    # the task API: own task visible, someone else's is 404
    own = await api.get(f"/v1/tasks/{next(iter(bob_tasks))}", headers=_bearer(bob["access_token"]))
    assert own.status_code == 200 and own.json()["status"] == "done"
    other = await api.get(
        f"/v1/tasks/{next(iter(bob_tasks))}", headers=_bearer(alice["access_token"])
    )
    assert other.status_code == 404

    # resubmitting, exactly or cosmetically changed, is a cache hit without a new job
    jobs_before = client.xinfo_stream(keys.JOB_STREAM)["entries-added"]
    for text in (alice_texts[1], "  <b>mount EVEREST</b> is the highest mountain on earth!! "):
        hit = await api.post(
            "/v1/verify", json={"text": text}, headers=_bearer(bob["access_token"])
        )
        assert hit.status_code == 200, hit.text
        assert hit.json()["cached"] is True and hit.json()["result"]["mark"]
    assert client.xinfo_stream(keys.JOB_STREAM)["entries-added"] == jobs_before
    # Finished jobs leave the stream: a worker acks a job once its callback is answered,
    # and the push can reach a user a few milliseconds before that.
    for _ in range(50):
        if client.xlen(keys.JOB_STREAM) == 0:
            break
        await asyncio.sleep(0.1)
    assert client.xlen(keys.JOB_STREAM) == 0
    assert client.xpending(keys.JOB_STREAM, keys.WORKER_GROUP)["pending"] == 0
    client.close()
    for ws in [*alice_ws, bob_ws]:
        await ws.close()


async def test_burst_past_the_limit_gets_429(stack: Stack, api: httpx.AsyncClient) -> None:
    user = await _register(api, "bursty")
    statuses = []
    for i in range(VERIFY_BURST + 3):
        answer = await api.post(
            "/v1/verify",
            json={"text": f"burst claim number {i}"},
            headers=_bearer(user["access_token"]),
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert answer.json()["errorCode"] == "GW-RATE-429"
            assert answer.headers["RateLimit-Remaining"] == "0"
    assert statuses.count(202) == VERIFY_BURST and statuses[-1] == 429


async def test_hostile_requests_get_clear_errors(stack: Stack, api: httpx.AsyncClient) -> None:
    user = await _register(api, "carol")
    wrong = await api.post(
        "/v1/auth/login", json={"email": user["email"], "password": "not-the-password"}
    )
    assert wrong.status_code == 401 and wrong.json()["errorCode"] == "AUTH-CRED-401"

    secrets = json.loads((stack.options.data_dir / "secrets.json").read_text())
    kid = secrets["AUTH_JWT_ACTIVE_KID"]
    real_key = load_private_pem(json.loads(secrets["AUTH_JWT_KEYS"])[kid], kid)
    other_key = load_private_pem(new_private_pem(), kid)
    now = int(time.time())
    claims = {"sub": user["userId"], "iss": "satyamark-auth", "aud": "satyamark", "jti": "j1"}
    fresh = {**claims, "iat": now, "exp": now + 600}
    tokens = {
        "expired": jwt.encode(
            {**claims, "iat": now - 7200, "exp": now - 3600},
            real_key,
            algorithm="EdDSA",
            headers={"kid": kid},
        ),
        "forged": jwt.encode(fresh, other_key, algorithm="EdDSA", headers={"kid": kid}),
        "alg none": jwt.encode(
            fresh,
            None,  # type: ignore[arg-type]
            algorithm="none",
            headers={"kid": kid},
        ),
    }
    # the forging itself is sound: the same claims signed by the real key pass
    genuine = jwt.encode(fresh, real_key, algorithm="EdDSA", headers={"kid": kid})
    assert (await api.get(f"/v1/tasks/{ULID()}", headers=_bearer(genuine))).status_code == 404
    for name, token in tokens.items():
        denied = await api.post("/v1/verify", json={"text": "hello"}, headers=_bearer(token))
        assert denied.status_code == 401, name
        assert denied.json()["errorCode"] == "GW-AUTH-401", name
    # a logged-out token is refused
    assert (await api.post("/v1/auth/logout", headers=_bearer(genuine))).status_code == 204
    revoked = await api.get(f"/v1/tasks/{ULID()}", headers=_bearer(genuine))
    assert revoked.status_code == 401 and revoked.json()["errorCode"] == "GW-AUTH-401"
    missing = await api.post("/v1/verify", json={"text": "hello"})
    assert missing.status_code == 401

    auth = _bearer(user["access_token"])
    bad_bodies = [
        (b'{"text": ', "application/json", 422),
        (b'{"text": "' + b"a" * 70_000 + b'"}', "application/json", 413),
        (b'{"text": "hi"}', "text/plain", 415),
        (b'{"text": "hi", "admin": true}', "application/json", 422),
        (b'\xff\xfe{"text": 1}', "application/json", 400),
        (b'{"text": "' + b"a" * 20_001 + b'"}', "application/json", 422),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
    ]
    for body, content_type, status in bad_bodies:
        answer = await api.post(
            "/v1/verify", content=body, headers={**auth, "content-type": content_type}
        )
        assert answer.status_code == status, body[:30]
        assert answer.json()["errorCode"].startswith("GW-"), body[:30]

    # forged and replayed callbacks straight at result_receiver
    receiver = f"http://127.0.0.1:{stack.components['result_receiver'].port}/ai-callback"
    conn = await asyncpg.connect(stack.database_url)
    task_id = await conn.fetchval("SELECT id FROM ai_results WHERE status = 'done' LIMIT 1")
    before = await conn.fetchrow(
        "SELECT mark, reason, confidence FROM ai_results WHERE id = $1", task_id
    )
    body = json.dumps(
        {
            "taskId": task_id,
            "job_token": "x" * 43,
            "mark": "Incorrect",
            "reason": "forged",
            "confidence": 99,
        }
    ).encode()
    async with httpx.AsyncClient() as raw:
        forged = await raw.post(receiver, content=body, headers=sign(b"not-the-secret", "m1", body))
        assert forged.status_code == 401
        signed = sign(secrets["CALLBACK_SECRET"].encode(), "m-replay", body)
        first = await raw.post(receiver, content=body, headers=signed)
        assert first.status_code == 403  # right signature, wrong job_token
        replay = await raw.post(receiver, content=body, headers=signed)
        assert replay.status_code == 409 and replay.json()["errorCode"] == "RR-REPLAY-409"
    after = await conn.fetchrow(
        "SELECT mark, reason, confidence FROM ai_results WHERE id = $1", task_id
    )
    await conn.close()
    assert after == before


async def test_the_api_is_described_by_its_openapi_document(api: httpx.AsyncClient) -> None:
    # How the web app itself is served: tests/e2e/test_web_client.py.
    assert (await api.get("/openapi.json")).json()["paths"].keys() >= {
        "/v1/verify",
        "/v1/auth/login",
        "/v1/auth/register",
        "/v1/tasks/{task_id}",
    }


async def test_result_missed_while_offline_is_replayed_on_reconnect(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    dave = await _register(api, "dave")
    auth = _bearer(dave["access_token"])
    online = await _socket(stack, dave["access_token"], first_message=True)
    first = await api.post("/v1/verify", json={"text": "Sharks are mammals."}, headers=auth)
    assert first.status_code == 202, first.text
    (seen,) = await _drain(online, 1)
    assert seen["taskId"] == first.json()["taskId"] and seen["eventId"]
    await online.close()

    # offline: the verdict lands while nobody listens
    missed = await api.post("/v1/verify", json={"text": "Bats are blind."}, headers=auth)
    assert missed.status_code == 202, missed.text
    task_id = missed.json()["taskId"]
    deadline = time.monotonic() + 60
    while (await api.get(f"/v1/tasks/{task_id}", headers=auth)).json()["status"] != "done":
        assert time.monotonic() < deadline, "the offline task never finished"
        await asyncio.sleep(0.2)

    # the browser way: the auth message names the last event seen
    ws = await websockets.connect(_ws_url(stack))
    await ws.send(
        json.dumps({"type": "auth", "token": dave["access_token"], "lastEventId": seen["eventId"]})
    )
    ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ready["type"] == "ready" and ready["lastEventId"] != seen["eventId"]
    replayed = await _drain(ws, 1, wait_s=10)
    assert [(e["taskId"], e["eventId"]) for e in replayed] == [(task_id, ready["lastEventId"])]
    assert replayed[0]["type"] == "result" and replayed[0]["mark"]
    await ws.close()
