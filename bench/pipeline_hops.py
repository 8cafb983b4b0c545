"""The pipeline benchmark's single-hop probe: latency at concurrency 1 of each hop of a
submit, calling internal services directly with the stack's internal credential."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.pipeline_client import Client, User
from bench.pipeline_common import ms, pct
from bench.pipeline_infra import wait_drained
from satyamark.devstack import Stack
from shared.service_auth import Keyring, sign_headers


async def hop_breakdown(
    client: Client, stack: Stack, answered: list[str], n: int
) -> dict[str, Any]:
    """Latency of single hops at concurrency 1, calling internal services directly (with
    the stack's internal credential) to see where a submit's time goes."""
    assert client.session is not None
    session = client.session
    keyring = _stack_keyring(stack.env)
    port = {name: c.port for name, c in stack.components.items()}
    user = client.users[0]
    hit_texts = itertools.cycle(answered)

    async def timed(method: str, url: str, **kw: Any) -> tuple[int | str, float]:
        t0 = time.perf_counter()
        if "json" in kw:  # internal call: signed like the services sign theirs
            body = json.dumps(kw.pop("json")).encode()
            headers = {
                "content-type": "application/json",
                "x-satyamark-user": user.user_id,
                **sign_headers(keyring, method, urlsplit(url).path, body),
            }
            kw.update(data=body, headers=headers)
        async with session.request(method, url, **kw) as r:
            await r.read()
            return r.status, time.perf_counter() - t0

    probes: dict[str, Any] = {
        "gateway GET /healthz": lambda: timed("GET", f"http://127.0.0.1:{port['gateway']}/healthz"),
        "ratelimit POST /internal/check": lambda: timed(
            "POST",
            f"http://127.0.0.1:{port['ratelimit_service']}/internal/check",
            json={"endpoint": "verify", "subject": f"user:{user.user_id}"},
        ),
        "backend /internal/verify miss": lambda: timed(
            "POST",
            f"http://127.0.0.1:{port['backend_service']}/internal/verify",
            json={"text": client.unique_text("hop")},
        ),
        "backend /internal/verify hit": lambda: timed(
            "POST",
            f"http://127.0.0.1:{port['backend_service']}/internal/verify",
            json={"text": next(hit_texts)},
        ),
        "gateway /v1/verify miss": lambda: _full(client, user, client.unique_text("hop")),
        "gateway /v1/verify hit": lambda: _full(client, user, next(hit_texts)),
    }
    out: dict[str, Any] = {}
    for name, probe in probes.items():
        lat: list[float] = []
        statuses: Counter[str] = Counter()
        for _ in range(n):
            status, elapsed = await probe()
            statuses[str(status)] += 1
            lat.append(elapsed)
        await wait_drained(stack.redis_url, 30)
        out[name] = {
            "p50_ms": ms(pct(lat, 50)),
            "p99_ms": ms(pct(lat, 99)),
            "statuses": dict(statuses),
        }
    # one committed INSERT on a real table in the stack's database (fsync cost)
    conn = await asyncpg.connect(stack.database_url, timeout=10)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_probe (x int)")
        lat = []
        for i in range(min(n, 100)):
            t0 = time.perf_counter()
            await conn.execute("INSERT INTO bench_probe VALUES ($1)", i)
            lat.append(time.perf_counter() - t0)
        await conn.execute("DROP TABLE bench_probe")
        out["postgres INSERT+commit"] = {"p50_ms": ms(pct(lat, 50)), "p99_ms": ms(pct(lat, 99))}
    finally:
        await conn.close()
    return out


def _stack_keyring(env: dict[str, str]) -> Keyring:
    """The internal keys the stack's services accept (shared/service_auth.py)."""
    if env.get("SATYAMARK_INTERNAL_KEYS"):
        keys = {k: v.encode() for k, v in json.loads(env["SATYAMARK_INTERNAL_KEYS"]).items()}
        return Keyring(keys, env.get("SATYAMARK_INTERNAL_ACTIVE_KID") or next(iter(keys)))
    return Keyring.single(env["SATYAMARK_INTERNAL_TOKEN"])


async def _full(client: Client, user: User, text: str) -> tuple[int | str, float]:
    status, elapsed, _ = await client.submit(user, text)
    return status, elapsed
