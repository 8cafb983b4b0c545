"""Operating SatyaMark through the public admin API and the CLI, on the real stack:
roles, the queue view, the intake switch and the audit trail."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import asyncpg
import httpx
import pytest

from satyamark.devstack import Stack
from tests.e2e.test_pipeline import _bearer, _drain, _register, _socket

pytestmark = pytest.mark.e2e

ADMIN_ROUTES = [
    ("GET", "/v1/admin/queue"),
    ("POST", "/v1/admin/intake"),
    ("GET", "/v1/admin/audit"),
    ("GET", "/v1/admin/dlq"),
    ("GET", "/v1/admin/dlq/1-0"),
    ("POST", "/v1/admin/dlq/1-0/replay"),
    ("DELETE", "/v1/admin/dlq/1-0"),
]


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": stack.database_url, "SATYAMARK_URL": stack.gateway_url}
    return subprocess.run(
        [sys.executable, "-m", "satyamark.cli", "admin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _login(api: httpx.AsyncClient, creds: dict[str, str]) -> str:
    answer = await api.post(
        "/v1/auth/login", json={"email": creds["email"], "password": creds["password"]}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def _submit(api: httpx.AsyncClient, token: str, text: str) -> httpx.Response:
    return await api.post("/v1/verify", json={"text": text}, headers=_bearer(token))


async def test_only_admins_reach_the_admin_api(stack: Stack, api: httpx.AsyncClient) -> None:
    user = await _register(api, "plain")
    for method, path in ADMIN_ROUTES:
        body: dict[str, Any] = {"json": {"paused": False}} if path.endswith("intake") else {}
        if path.endswith("replay"):
            body = {"json": {}}
        anonymous = await api.request(method, path, **body)
        assert anonymous.status_code == 401, (path, anonymous.text)
        refused = await api.request(method, path, headers=_bearer(user["access_token"]), **body)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["errorCode"] == "GW-ADMIN-403"


async def test_an_admin_pauses_the_intake_and_every_action_is_audited(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    operator = await _register(api, "operator")
    granted = _cli(stack, "grant", operator["email"], "--json")
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["role"] == "admin"
    assert _cli(stack, "grant", "nobody@example.com").returncode == 1
    token = await _login(api, operator)  # the role is in tokens issued from now on

    queue = await api.get("/v1/admin/queue", headers=_bearer(token))
    assert queue.status_code == 200, queue.text
    view = queue.json()
    assert {"backlog", "pending", "oldestPendingAgeS", "dlq", "consumers", "intake"} <= set(view)
    assert len(view["consumers"]) == 2 and view["intake"]["paused"] is False

    # a text answered before the pause stays answerable from the cache
    user = await _register(api, "during-pause")
    ws = await _socket(stack, user["access_token"])
    known = "Mount Kilimanjaro is in Tanzania."
    assert (await _submit(api, user["access_token"], known)).status_code == 202
    assert len(await _drain(ws, 1)) == 1
    await ws.close()

    admin_args = ["--email", operator["email"], "--password", operator["password"]]
    paused = _cli(stack, "pause", "--reason", "GPU maintenance", *admin_args)
    assert paused.returncode == 0, paused.stderr
    try:
        deadline = time.monotonic() + 2.5  # every backend instance follows within 2 s
        while True:
            refused = await _submit(api, user["access_token"], "Paris is in France, right?")
            if refused.status_code == 503 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert refused.status_code == 503, refused.text
        assert refused.json()["errorCode"] == "BE-PAUSED-503"
        assert "GPU maintenance" in refused.json()["message"]
        assert int(refused.headers["Retry-After"]) > 0
        assert (await _submit(api, user["access_token"], known)).status_code == 200
        shown = _cli(stack, "queue", "--json", *admin_args)
        assert shown.returncode == 0 and json.loads(shown.stdout)["intake"]["paused"] is True
    finally:
        resumed = _cli(stack, "resume", *admin_args)
        assert resumed.returncode == 0, resumed.stderr
    deadline = time.monotonic() + 2.5
    while (
        answer := await _submit(api, user["access_token"], "Rome is in Italy.")
    ).status_code == 503:
        assert time.monotonic() < deadline, answer.text
        await asyncio.sleep(0.1)
    assert answer.status_code == 202, answer.text

    page = (await api.get("/v1/admin/audit", headers=_bearer(token))).json()
    mine = [e for e in page["items"] if operator["userId"] in (e["actor"], e["target"][5:])]
    actions = [e["action"] for e in reversed(mine)]
    assert actions[-3:] == ["role.grant", "intake.pause", "intake.resume"], actions
    pause = next(e for e in mine if e["action"] == "intake.pause")
    assert pause["reason"] == "GPU maintenance" and pause["before"]["paused"] is False
    assert pause["after"]["paused"] is True

    # the trail is append-only, even for someone with the database in hand
    conn = await asyncpg.connect(stack.database_url)
    try:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE admin_audit SET reason = 'nothing happened'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM admin_audit")
    finally:
        await conn.close()
    # paused workers read nothing new; resumed, they take it at once
    assert _cli(stack, "workers", "pause", *admin_args).returncode == 0
    try:
        await asyncio.sleep(1.5)  # a read already blocking (WORKER_BLOCK_MS=1000) returns
        held = await _submit(api, user["access_token"], "Lisbon is the capital of Portugal.")
        assert held.status_code == 202, held.text
        await asyncio.sleep(2.0)
        held_id = held.json()["taskId"]
        task = await api.get(f"/v1/tasks/{held_id}", headers=_bearer(user["access_token"]))
        assert task.json()["status"] == "queued", task.text  # nobody took it
    finally:
        assert _cli(stack, "workers", "resume", *admin_args).returncode == 0
    for _ in range(100):
        task = await api.get(f"/v1/tasks/{held_id}", headers=_bearer(user["access_token"]))
        if task.json()["status"] == "done":
            break
        await asyncio.sleep(0.2)
    assert task.json()["status"] == "done", task.text
    assert [s["stage"] for s in task.json()["stages"]][:2] == ["accepted", "queued"]

    # dead letters through the gateway: none here (tests/worker/test_dead_letters.py
    # makes real ones); an unknown entry is handled already, idempotently
    listed = _cli(stack, "dlq", "list", "--json", *admin_args)
    assert listed.returncode == 0 and "items" in json.loads(listed.stdout), listed.stderr
    replay = _cli(stack, "dlq", "replay", "1-0", "--json", *admin_args)
    assert json.loads(replay.stdout)["items"] == [
        {"entryId": "1-0", "replayed": False, "why": "already handled"}
    ]
    missing = await api.get("/v1/admin/dlq/1-0", headers=_bearer(token))
    assert missing.status_code == 404 and missing.json()["errorCode"] == "BE-DLQ-404"
    assert _cli(stack, "revoke", operator["email"]).returncode == 0
    assert _cli(stack, "queue", *admin_args).returncode == 3  # a fresh login: no longer admin


async def test_a_poisoned_job_is_dead_lettered_then_replayed_once_the_fault_is_fixed(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    """A real fault: the only running worker signs callbacks with a wrong secret, so the
    receiver refuses its result and the job goes to the dead letters. An operator finds
    it through the admin API, the worker is fixed, the entry replayed: the user gets
    exactly one verdict."""
    operator, user = await _register(api, "medic"), await _register(api, "patient")
    assert _cli(stack, "grant", operator["email"]).returncode == 0
    admin = _bearer(await _login(api, operator))
    sick, spare = stack.components["worker-1"], "worker-2"
    good_secret = sick.env["CALLBACK_SECRET"]
    await asyncio.to_thread(stack.kill, spare)
    await asyncio.to_thread(stack.kill, "worker-1")
    sick.env["CALLBACK_SECRET"] = "a-wrong-secret-" + "x" * 40
    try:
        await asyncio.to_thread(stack.revive, "worker-1")
        ws = await _socket(stack, user["access_token"])
        try:
            submitted = await _submit(api, user["access_token"], "Poisoned by a bad secret.")
            assert submitted.status_code == 202, submitted.text
            task_id = submitted.json()["taskId"]
            deadline = time.monotonic() + 90
            entry = None
            while entry is None:
                assert time.monotonic() < deadline, "the job never reached the dead letters"
                listed = (await api.get("/v1/admin/dlq", headers=admin)).json()["items"]
                entry = next((e for e in listed if e["taskId"] == task_id), None)
                await asyncio.sleep(0.5)
            assert entry["errorCode"] == "WK-CALLBACK-REFUSED"
            task = await api.get(f"/v1/tasks/{task_id}", headers=_bearer(user["access_token"]))
            assert task.json()["status"] == "queued"  # its failure could not be told either

            # the fix: the right secret, and both workers back
            await asyncio.to_thread(stack.kill, "worker-1")
            sick.env["CALLBACK_SECRET"] = good_secret
            await asyncio.to_thread(stack.revive, "worker-1")
            await asyncio.to_thread(stack.revive, spare)
            await asyncio.to_thread(stack.wait_workers)
            replayed = await api.post(
                f"/v1/admin/dlq/{entry['entryId']}/replay", json={"reason": "fixed"}, headers=admin
            )
            assert replayed.status_code == 200 and replayed.json()["replayed"] is True
            events = await _drain(ws, 1, wait_s=60)
        finally:
            await ws.close()
    finally:
        sick.env["CALLBACK_SECRET"] = good_secret
        for name in ("worker-1", spare):
            if not stack.components[name].alive:
                await asyncio.to_thread(stack.revive, name)
    assert [(e["type"], e["taskId"]) for e in events] == [("result", task_id)]
    done = await api.get(f"/v1/tasks/{task_id}", headers=_bearer(user["access_token"]))
    assert done.json()["status"] == "done"
    assert "replayed" in [s["stage"] for s in done.json()["stages"]]
