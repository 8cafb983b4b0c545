"""Open WebSockets stay live through a Redis kill -9 and empty restart.

The whole stack as processes (1 worker, two ws_service instances, private Redis with
no persistence). Users keep two sockets each open through the gateway, which spreads
them over both instances. Tasks flow the whole time; Redis is killed and started
again empty; no ws_service or client is restarted or reconnected. Then:

- every socket stayed connected (one ``ready`` each: nobody reconnected);
- every accepted task is final in PostgreSQL;
- a result that finished after Redis was back (plus a second for the instances to
  notice) reached every socket of its user live, exactly once;
- a result of the gap reached the socket at most once, and if it did not arrive at
  all the socket was told ``{"type": "resync"}`` after the kill (the client then
  reloads its tasks from the API, where the task is final).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import redis

from shared import keys

from .conftest import chaos_stack
from .harness import Listener, User, register, submit
from .test_chaos import _wait_final

pytestmark = pytest.mark.e2e

USERS = 6
TEXTS_PER_USER = 14
PACE_S = 0.5
KILL_AFTER_S = 3.0
DOWN_S = 1.0
NOTICE_S = 1.5  # after Redis is back: pub/sub reconnect (<= 1 s backoff) + catch-up

ENV = {
    "WORKER_MIN_JOB_MS": "200",
    "WORKER_LEASE_MS": "3000",
    "WORKER_CALLBACK_ATTEMPTS": "12",
    "WORKER_RETRY_BACKOFF_S": "0.5",
    "BACKEND_SWEEP_INTERVAL_S": "1",
    "BACKEND_SWEEP_AFTER_S": "5",
}


def _instances(redis_url: str, users: list[User]) -> set[str]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return {i for u in users for i in client.hvals(keys.ws_user(u.user_id))}  # type: ignore[misc]
    finally:
        client.close()


async def test_sockets_stay_live_through_a_redis_wipe(tmp_path: Path) -> None:
    async with chaos_stack(tmp_path, workers=1, ws_instances=2, env=ENV) as chaos:
        stack = chaos.s
        ws_url = stack.gateway_url.replace("http://", "ws://") + "/v1/ws"
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as api:
            users = [await register(api, f"wipe{u}") for u in range(USERS)]
            listeners = [Listener(ws_url, user) for user in users for _ in range(2)]
            for listener in listeners:
                listener.start()
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in listeners)), 30)
            assert len(_instances(stack.redis_url, users)) == 2, "sockets on one instance"

            async def submitter(user: User) -> None:
                for i in range(TEXTS_PER_USER):
                    await submit(api, user, f"Wipe test {user.name}-{i}: rivers flow uphill.")
                    await asyncio.sleep(PACE_S)

            window: list[float] = []

            async def wipe() -> None:
                await asyncio.sleep(KILL_AFTER_S)
                window.append(time.time())
                await asyncio.to_thread(chaos.stop_redis)
                await asyncio.sleep(DOWN_S)
                await asyncio.to_thread(chaos.start_redis)
                window.append(time.time())

            await asyncio.wait_for(asyncio.gather(wipe(), *(submitter(u) for u in users)), 120)
            killed_at, back_at = window
            ids = sorted(t for u in users for t in u.accepted)
            rows = await _wait_final(stack.database_url, ids, 60)
            assert all(rows[t]["status"] == "done" for t in ids), "tasks not final"

            def owed(lst: Listener) -> list[str]:
                """Tasks this socket must still get live."""
                return [
                    t
                    for t in lst.user.accepted
                    if lst.events[t] == 0
                    and not (
                        float(rows[t]["completed"]) <= back_at + NOTICE_S
                        and lst.asked_to_reload_since(killed_at)
                    )
                ]

            end = time.monotonic() + 20
            while any(owed(lst) for lst in listeners) and time.monotonic() < end:  # noqa: ASYNC110
                await asyncio.sleep(0.25)
            await asyncio.sleep(1)  # late duplicates would arrive now
            for listener in listeners:
                await listener.stop()

        late = {lst.user.name: owed(lst) for lst in listeners if owed(lst)}
        assert not late, f"results never pushed to open sockets: {late}"
        twice = [(lst.user.name, t, n) for lst in listeners for t, n in lst.events.items() if n > 1]
        assert not twice, f"results pushed twice: {twice}"
        reconnected = [lst.user.name for lst in listeners if lst.connects != 1]
        assert not reconnected, f"sockets that had to reconnect: {reconnected}"
        gap = [t for t in ids if killed_at <= float(rows[t]["completed"]) <= back_at + NOTICE_S]
        resynced = sum(lst.resyncs > 0 for lst in listeners)
        print(
            f"\nredis wipe with open sockets: {len(ids)} tasks, {len(gap)} finished in the gap, "
            f"{resynced}/{len(listeners)} sockets told to resync, "
            f"{sum(sum(lst.events.values()) for lst in listeners)} results pushed, 0 reconnects"
        )
