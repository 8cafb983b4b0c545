"""The pipeline benchmark's load client: registered users with their WebSockets, one
aiohttp session, and the closed-loop phases (submit, submit->push, cache hit)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.pipeline_common import ms, pct

REQUEST_TIMEOUT_S = 30.0
PUSH_TIMEOUT_S = 15.0


@dataclass
class User:
    token: str
    user_id: str
    ws: aiohttp.ClientWebSocketResponse | None = None


@dataclass
class PhaseResult:
    name: str
    concurrency: int
    duration_s: float
    ok: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "duration_s": round(self.duration_s, 2),
            "ok": self.ok,
            "ok_per_s": round(self.ok / self.duration_s, 1) if self.duration_s else 0.0,
            "p50_ms": ms(pct(self.latencies, 50)),
            "p99_ms": ms(pct(self.latencies, 99)),
            "max_ms": ms(max(self.latencies)) if self.latencies else None,
            "other": dict(self.statuses),
        }


class Client:
    def __init__(self, base_url: str, run_id: str) -> None:
        self.base = base_url
        self.ws_url = base_url.replace("http://", "ws://") + "/v1/ws"
        self.run_id = run_id
        self.counter = itertools.count()
        self.users: list[User] = []
        self.session: aiohttp.ClientSession | None = None
        self.readers: list[asyncio.Task[None]] = []
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.early: dict[str, float] = {}
        self.pushes = Counter[str]()

    async def __aenter__(self) -> Client:
        connector = aiohttp.TCPConnector(limit=0, force_close=False, ttl_dns_cache=None)
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            json_serialize=json.dumps,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        for user in self.users:
            if user.ws is not None and not user.ws.closed:
                try:
                    await asyncio.wait_for(user.ws.close(), 2)
                except (TimeoutError, aiohttp.ClientError, OSError):
                    pass
        assert self.session is not None
        await self.session.close()

    def unique_text(self, tag: str) -> str:
        n = next(self.counter)
        return (
            f"Benchmark claim {self.run_id} {tag} {n}: the river number {n} "
            f"flows north through the valley of {n % 97} towns."
        )

    # registration and sockets ----------------------------------------------------------
    async def register(self, count: int, concurrency: int = 4) -> None:
        assert self.session is not None
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> User:
            # password hashing is slow on purpose; on a busy machine auth_service can miss
            # the gateway's deadline (503/504), so retry a few times
            creds = {"email": f"bench-{self.run_id}-{i}@example.com", "password": "password-123"}
            last = ""
            for attempt in range(5):
                async with (
                    sem,
                    self.session.post(  # type: ignore[union-attr]
                        f"{self.base}/v1/auth/register", json=creds
                    ) as r,
                ):
                    body = await r.text()
                    if r.status == 201:
                        data = json.loads(body)
                        return User(data["access_token"], data["userId"])
                    last = f"{r.status} {body[:200]}"
                    if r.status == 409:  # an earlier attempt did get through: log in
                        async with self.session.post(  # type: ignore[union-attr]
                            f"{self.base}/v1/auth/login", json=creds
                        ) as r2:
                            if r2.status == 200:
                                data = json.loads(await r2.text())
                                return User(data["access_token"], data["userId"])
                    elif r.status not in (502, 503, 504):
                        break
                await asyncio.sleep(0.5 * (attempt + 1))
            raise RuntimeError(f"register failed: {last}")

        self.users = list(await asyncio.gather(*(one(i) for i in range(count))))

    async def open_sockets(self) -> None:
        assert self.session is not None

        async def one(user: User) -> None:
            ws = await self.session.ws_connect(  # type: ignore[union-attr]
                self.ws_url,
                headers={"Authorization": f"Bearer {user.token}"},
                timeout=aiohttp.ClientWSTimeout(ws_close=2),
                autoping=True,
                heartbeat=None,
            )
            first = await ws.receive(timeout=10)
            ready = json.loads(first.data) if first.type == aiohttp.WSMsgType.TEXT else {}
            if ready.get("type") != "ready":
                raise RuntimeError(f"socket did not say ready: {first!r}")
            user.ws = ws
            self.readers.append(asyncio.create_task(self._reader(ws)))

        sem = asyncio.Semaphore(8)

        async def bounded(user: User) -> None:
            async with sem:
                await asyncio.wait_for(one(user), 15)

        await asyncio.gather(*(bounded(u) for u in self.users))

    async def _reader(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            event = json.loads(msg.data)
            kind = event.get("type", "?")
            self.pushes[kind] += 1
            task_id = event.get("taskId")
            if kind in ("result", "failed") and task_id:
                waiter = self.waiters.pop(task_id, None)
                if waiter is not None:
                    if not waiter.done():
                        waiter.set_result(now)
                elif self.tracking:
                    self.early[task_id] = now
        self.pushes["socket closed"] += 1

    tracking = False

    # one submit -------------------------------------------------------------------------
    async def submit(self, user: User, text: str) -> tuple[int | str, float, dict[str, Any] | None]:
        assert self.session is not None
        t0 = time.perf_counter()
        async with self.session.post(
            f"{self.base}/v1/verify",
            json={"text": text},
            headers={"Authorization": f"Bearer {user.token}"},
        ) as r:
            body = await r.read()
            elapsed = time.perf_counter() - t0
            if r.status in (200, 202):
                return r.status, elapsed, json.loads(body)
            try:  # keep the error code: "503 SYS-DEP-504" says more than "503"
                code = json.loads(body).get("errorCode", "")
            except ValueError:
                code = ""
            return f"{r.status} {code}".strip(), elapsed, None

    # phases -----------------------------------------------------------------------------
    async def _run_closed_loop(
        self, result: PhaseResult, concurrency: int, duration: float, one: Any
    ) -> None:
        deadline = time.monotonic() + duration
        users = itertools.cycle(self.users)

        async def loop() -> None:
            while time.monotonic() < deadline:
                try:
                    await one(next(users))
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    result.statuses[type(exc).__name__] += 1

        t0 = time.monotonic()
        tasks = [asyncio.create_task(loop()) for _ in range(concurrency)]
        # every request is bounded by REQUEST_TIMEOUT_S / PUSH_TIMEOUT_S; this is a backstop
        _, pending = await asyncio.wait(tasks, timeout=duration + REQUEST_TIMEOUT_S + 15)
        for task in pending:
            task.cancel()
            result.statuses["phase-timeout"] += 1
        await asyncio.gather(*tasks, return_exceptions=True)
        result.duration_s = time.monotonic() - t0

    async def submit_phase(self, concurrency: int, duration: float) -> PhaseResult:
        result = PhaseResult(f"submit c={concurrency}", concurrency, 0.0)

        async def one(user: User) -> None:
            status, elapsed, data = await self.submit(user, self.unique_text(f"c{concurrency}"))
            if status == 202 and data and data.get("queued"):
                result.ok += 1
                result.latencies.append(elapsed)
            else:
                result.statuses[f"http {status}" + (" cached" if status == 200 else "")] += 1

        await self._run_closed_loop(result, concurrency, duration, one)
        return result

    async def push_phase(self, concurrency: int, duration: float) -> tuple[PhaseResult, list[str]]:
        """Closed loop: submit, wait for the pushed event with that taskId, repeat."""
        result = PhaseResult(f"push c={concurrency}", concurrency, 0.0)
        answered: list[str] = []
        self.tracking = True
        self.early.clear()
        loop = asyncio.get_running_loop()

        async def one(user: User) -> None:
            text = self.unique_text("push")
            t0 = time.perf_counter()
            status, _, data = await self.submit(user, text)
            if status != 202 or not data:
                result.statuses[f"http {status}"] += 1
                return
            task_id = data["taskId"]
            arrived = self.early.pop(task_id, None)
            if arrived is None:
                fut: asyncio.Future[float] = loop.create_future()
                self.waiters[task_id] = fut
                try:
                    arrived = await asyncio.wait_for(fut, PUSH_TIMEOUT_S)
                except TimeoutError:
                    self.waiters.pop(task_id, None)
                    result.statuses["push timeout"] += 1
                    return
            result.ok += 1
            result.latencies.append(arrived - t0)
            answered.append(text)

        try:
            await self._run_closed_loop(result, concurrency, duration, one)
        finally:
            self.tracking = False
        return result, answered

    async def cache_phase(self, concurrency: int, duration: float, texts: list[str]) -> PhaseResult:
        result = PhaseResult(f"cache hit c={concurrency}", concurrency, 0.0)
        pool = itertools.cycle(texts)

        async def one(user: User) -> None:
            status, elapsed, data = await self.submit(user, next(pool))
            if status == 200 and data and data.get("cached"):
                result.ok += 1
                result.latencies.append(elapsed)
            else:
                result.statuses[f"http {status}"] += 1

        await self._run_closed_loop(result, concurrency, duration, one)
        return result
