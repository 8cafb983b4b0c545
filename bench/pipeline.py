"""End-to-end pipeline benchmark: the whole stack as real processes, driven through the
public API only (gateway ``/v1`` + WebSocket ``/v1/ws``).

    .venv/bin/python bench/pipeline.py            # full run (~2 min incl. start-up)
    .venv/bin/python bench/pipeline.py --quick    # short phases (~1 min)
    .venv/bin/python bench/pipeline.py --keep     # keep the temp dir (logs) afterwards

Measures
  a. accepted submits/s (202 only) and latency p50/p99 at concurrency 1, 16, 64,
     unique texts (cache misses); non-202 answers are counted by status;
  b. submit -> WebSocket push latency (cache misses, concurrency 4, closed loop);
  c. cache-hit latency (200 cached) at concurrency 1 and 16;
and per-process CPU use during the concurrency-64 phase.

Everything (gateway, auth, ratelimit, backend, ai_service, result_receiver, 2 ws_service,
2 workers, Redis, PostgreSQL and this client) shares one machine, so the figures are
what that machine gives, not what each service could do on its own cores.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Run as a script, this file's folder would come first on sys.path, where queue.py and
# worker.py shadow the standard library's queue and our worker package: keep it off.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _HERE]
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import redis  # noqa: E402
from ulid import ULID  # noqa: E402

from bench.pg import drop_database, pg_answers  # noqa: E402
from bench.procstat import (  # noqa: E402
    TICK,
    cpu_seconds,
    machine_busy_pct,
    machine_busy_seconds,
    machine_ticks,
    postgres_pids,
)
from satyamark.devstack import Stack, StackOptions  # noqa: E402
from satyamark.infra import PostgresServer, RedisServer, port_answers  # noqa: E402
from shared import keys  # noqa: E402
from shared.service_auth import Keyring, sign_headers  # noqa: E402
from tests.utils.tiny_models import build_tiny_encoder  # noqa: E402

LOCAL_PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
HUGE = {"capacity": 1_000_000_000, "refill_per_s": 1_000_000}
TARGETS = {
    "submit_rps_c64": (">=", 500.0, "accepted submits/s @ c=64"),
    "submit_p99_ms_c16": ("<=", 60.0, "submit p99 ms @ c=16"),
    "push_p50_ms": ("<=", 50.0, "submit->push p50 ms"),
    "cache_hit_p50_ms_c1": ("<=", 5.0, "cache hit p50 ms @ c=1"),
}
REQUEST_TIMEOUT_S = 30.0
PUSH_TIMEOUT_S = 15.0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, ``q`` in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


# -- infrastructure ----------------------------------------------------------------------


@dataclass
class Infra:
    tmp: Path
    redis_server: RedisServer | None = None
    pg_server: PostgresServer | None = None
    database_url: str = ""
    drop_db: bool = False
    stack: Stack | None = None

    def start(self, workers: int, ws_instances: int, torch_threads: int = 0) -> Stack:
        model = build_tiny_encoder(self.tmp / "tiny-model")
        self.redis_server = RedisServer(self.tmp / "redis").start()
        db_name = f"satyamark_bench_{ULID().hex[:10].lower()}"
        if port_answers("127.0.0.1", 5432) and asyncio.run(pg_answers(LOCAL_PG_SERVER)):
            self.database_url = f"{LOCAL_PG_SERVER}/{db_name}"
            self.drop_db = True
            log(f"PostgreSQL: local server, fresh database {db_name}")
        else:
            self.pg_server = PostgresServer(self.tmp / "postgres").start()
            self.database_url = self.pg_server.url
            log("PostgreSQL: private server in the temp dir")
        rules = {"verify": HUGE, "auth": HUGE, "ws": HUGE, "tasks": HUGE}
        options = StackOptions(
            data_dir=self.tmp / "data",
            default_ports=False,
            workers=workers,
            ws_instances=ws_instances,
            worker_model=str(model),
            redis_url=self.redis_server.url,
            database_url=self.database_url,
            extra_env={
                "RATELIMIT_RULES": json.dumps(rules),
                "WORKER_BATCH_WAIT_MS": "2",
                "WORKER_BLOCK_MS": "1000",
                "WORKER_DRAIN_TIMEOUT_S": "5",
                **(
                    {"OMP_NUM_THREADS": str(torch_threads), "MKL_NUM_THREADS": str(torch_threads)}
                    if torch_threads
                    else {}
                ),
            },
        )
        self.stack = Stack(options)
        try:
            self.stack.start()
        except BaseException:
            self.stack.stop()
            raise
        return self.stack

    def stop(self) -> None:
        if self.stack is not None:
            try:
                self.stack.stop()
            except Exception as exc:
                log(f"stack stop: {exc!r}")
        if self.redis_server is not None:
            self.redis_server.stop()
        if self.pg_server is not None:
            self.pg_server.stop()
        if self.drop_db:
            try:
                asyncio.run(asyncio.wait_for(drop_database(self.database_url), 20))
            except Exception as exc:
                log(f"could not drop {self.database_url}: {exc!r}")


# -- per-process CPU ------------------------------------------------------------------------


class CpuSampler:
    """CPU time of each stack process over an interval, as % of one core."""

    def __init__(self, infra: Infra) -> None:
        assert infra.stack is not None and infra.redis_server is not None
        self.groups: dict[str, list[int]] = {
            name: [c.proc.pid] for name, c in infra.stack.components.items() if c.proc
        }
        assert infra.redis_server.proc is not None
        self.groups["redis"] = [infra.redis_server.proc.pid]
        self.groups["client (this bench)"] = [os.getpid()]
        self._start: dict[str, float] = {}
        self._t0 = 0.0

    def _totals(self) -> dict[str, float]:
        groups = {**self.groups, "postgres (all backends)": postgres_pids()}
        out = {name: cpu_seconds(pids) for name, pids in groups.items()}
        ticks = machine_ticks()
        out["MACHINE busy (all cores)"] = machine_busy_seconds()
        out["MACHINE steal"] = ticks[7] / TICK if len(ticks) > 7 else 0.0
        return out

    def begin(self) -> None:
        self._start = self._totals()
        self._t0 = time.monotonic()

    def end(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._t0
        now = self._totals()
        # postgres backends come and go; a negative delta means some exited
        out = {
            name: round(100 * max(0.0, now[name] - self._start.get(name, 0.0)) / elapsed, 1)
            for name in now
        }
        ours = sum(v for k, v in out.items() if not k.startswith("MACHINE"))
        out["MACHINE other load (not ours)"] = round(
            max(0.0, out["MACHINE busy (all cores)"] - ours), 1
        )
        return out


# -- client ----------------------------------------------------------------------------------


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


def queue_backlog(redis_url: str) -> int:
    """Jobs not yet acknowledged by a worker (waiting + in flight)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)
    try:
        groups = client.xinfo_groups(keys.JOB_STREAM)
    except redis.ResponseError:
        return 0
    finally:
        client.close()
    for group in groups:
        if group["name"] == keys.WORKER_GROUP:
            return int(group.get("lag") or 0) + int(group.get("pending") or 0)
    return 0


async def wait_drained(redis_url: str, limit_s: float) -> tuple[int, float]:
    t0 = time.monotonic()
    backlog = queue_backlog(redis_url)
    while backlog and time.monotonic() - t0 < limit_s:
        await asyncio.sleep(0.25)
        backlog = queue_backlog(redis_url)
    return backlog, time.monotonic() - t0


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


# -- main ----------------------------------------------------------------------------------


async def run_bench(infra: Infra, args: argparse.Namespace) -> dict[str, Any]:
    stack = infra.stack
    assert stack is not None
    dur = 3.0 if args.quick else args.duration
    figures: dict[str, Any] = {"quick": bool(args.quick), "phases": {}}
    async with Client(stack.gateway_url, ULID().hex[:8].lower()) as client:
        t0 = time.monotonic()
        await asyncio.wait_for(client.register(args.users), 120)
        log(f"registered {len(client.users)} users in {time.monotonic() - t0:.1f}s")
        await asyncio.wait_for(client.open_sockets(), 120)
        log(f"opened {len(client.users)} WebSockets (kept open for the whole run)")

        # warm-up: first requests open connection pools, compile regexes, etc.
        await client.submit_phase(4, 1.0 if args.quick else 2.0)
        await wait_drained(stack.redis_url, 60)

        sampler = CpuSampler(infra)
        figures["cpu"] = {}
        for conc in (1, 16, 64):
            sampler.begin()
            res = await client.submit_phase(conc, dur)
            figures["cpu"][f"submit_c{conc}"] = cpu = sampler.end()
            figures["cpu_ms_per_request"] = figures.get("cpu_ms_per_request", {})
            if res.ok:
                figures["cpu_ms_per_request"][f"submit_c{conc}"] = {
                    name: round(pct / 100 * res.duration_s / res.ok * 1000, 2)
                    for name, pct in cpu.items()
                }
            figures["phases"][f"submit_c{conc}"] = res.summary()
            backlog = queue_backlog(stack.redis_url)
            left, waited = await wait_drained(stack.redis_url, 120)
            figures["phases"][f"submit_c{conc}"]["backlog_at_end"] = backlog
            figures["phases"][f"submit_c{conc}"]["drain_s"] = round(waited, 2)
            log(
                f"submit c={conc}: {res.summary()} backlog={backlog} drained in "
                f"{waited:.1f}s (left {left})"
            )

        res, answered = await client.push_phase(4, dur)
        figures["phases"]["push_c4"] = res.summary()
        log(f"push c=4: {res.summary()}")

        if not answered:  # fall back to texts answered during the submit phases
            answered = []
        pool = answered or [client.unique_text("never")]
        for conc in (1, 16):
            sampler.begin()
            res = await client.cache_phase(conc, dur, pool[:500])
            figures["cpu"][f"cache_c{conc}"] = sampler.end()
            figures["phases"][f"cache_c{conc}"] = res.summary()
            log(f"cache c={conc}: {res.summary()}")
        figures["ws_events_received"] = dict(client.pushes)

        await wait_drained(stack.redis_url, 60)
        figures["hops_c1"] = await asyncio.wait_for(
            hop_breakdown(client, stack, pool, 60 if args.quick else 200), 180
        )
        log(f"hops: {figures['hops_c1']}")

    p = figures["phases"]
    figures["submit_rps_c64"] = p["submit_c64"]["ok_per_s"]
    figures["submit_p99_ms_c16"] = p["submit_c16"]["p99_ms"]
    figures["push_p50_ms"] = p["push_c4"]["p50_ms"]
    figures["cache_hit_p50_ms_c1"] = p["cache_c1"]["p50_ms"]
    return figures


def _meets(value: float | None, op: str, target: float) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if op == ">=" else value <= target
    return "PASS" if ok else "MISS"


def print_report(figures: dict[str, Any]) -> None:
    p = figures["phases"]
    rows = [
        ("submit (miss) c=1", p["submit_c1"], None),
        ("submit (miss) c=16", p["submit_c16"], "submit_p99_ms_c16"),
        ("submit (miss) c=64", p["submit_c64"], "submit_rps_c64"),
        ("submit->push c=4", p["push_c4"], "push_p50_ms"),
        ("cache hit c=1", p["cache_c1"], "cache_hit_p50_ms_c1"),
        ("cache hit c=16", p["cache_c16"], None),
    ]
    print()
    print(
        f"SatyaMark pipeline benchmark ({'quick' if figures['quick'] else 'full'}) — "
        f"{figures['cpus']} CPU(s); all 10 service processes + Redis + PostgreSQL + this "
        "client share this machine"
    )
    print(
        f"(machine busy before start: {figures['background_busy_pct_before_start']}% of one "
        f"core; worker torch threads: {figures['torch_threads']})"
    )
    head = (
        f"{'phase':<20}{'ok':>7}{'ok/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  "
        f"{'target':<34}{'':<6}other"
    )
    print(head)
    print("-" * len(head))
    for label, s, key in rows:
        target = ""
        verdict = ""
        if key:
            op, goal, what = TARGETS[key]
            target = f"{what} {op} {goal:g}"
            verdict = _meets(figures[key], op, goal)
        other = ", ".join(f"{k}: {v}" for k, v in s["other"].items()) or "-"

        def f(v: Any) -> str:
            return "-" if v is None else f"{v:g}"

        print(
            f"{label:<20}{s['ok']:>7}{f(s['ok_per_s']):>9}{f(s['p50_ms']):>9}"
            f"{f(s['p99_ms']):>9}{f(s['max_ms']):>9}  {target:<34}{verdict:<6}{other}"
        )
    print()
    print(
        f"CPU by process, % of one core (the machine has {figures['cpus'] * 100}%), and CPU ms"
        " per accepted submit:"
    )
    c64 = figures["cpu"]["submit_c64"]
    per_req = figures.get("cpu_ms_per_request", {})
    print(
        f"  {'process':<26}{'c=1 %':>8}{'c=16 %':>8}{'c=64 %':>8}{'ms/req c=1':>12}"
        f"{'ms/req c=64':>13}{'cache c=16 %':>14}"
    )
    for name in sorted(c64, key=lambda k: (k.startswith("MACHINE"), -c64[k])):

        def g(phase: str, name: str = name) -> str:
            v = figures["cpu"].get(phase, {}).get(name)
            return "-" if v is None else f"{v:g}"

        def r(phase: str, name: str = name) -> str:
            v = per_req.get(phase, {}).get(name)
            return "-" if v is None else f"{v:g}"

        print(
            f"  {name:<26}{g('submit_c1'):>8}{g('submit_c16'):>8}{g('submit_c64'):>8}"
            f"{r('submit_c1'):>12}{r('submit_c64'):>13}{g('cache_c16'):>14}"
        )
    print()
    print("Single-hop latency at concurrency 1 (internal services called directly):")
    for name, v in figures["hops_c1"].items():
        print(
            f"  {name:<34} p50 {v['p50_ms']:>7} ms   p99 {v['p99_ms']:>7} ms"
            f"   {v.get('statuses', '')}"
        )
    print()
    print("JSON " + json.dumps(figures, sort_keys=True))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 s phases instead of 10 s")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="set OMP_NUM_THREADS/MKL_NUM_THREADS for the workers (default: unset, as shipped)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument(
        "--pause",
        action="store_true",
        help="after the stack starts, print pids and wait for Enter (attach py-spy etc.)",
    )
    args = parser.parse_args()

    background = machine_busy_pct()
    if background > 20:
        log(
            f"WARNING: the machine is already {background}% busy (100% = one core) before "
            "the benchmark starts; figures will be lower than on a quiet machine"
        )
    tmp = Path(tempfile.mkdtemp(prefix="satyamark-bench-"))
    infra = Infra(tmp)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        t0 = time.monotonic()
        stack = infra.start(workers=2, ws_instances=2, torch_threads=args.torch_threads)
        log(
            f"stack up in {time.monotonic() - t0:.1f}s at {stack.gateway_url}; logs in {stack.logs}"
        )
        pids = {name: c.proc.pid for name, c in stack.components.items() if c.proc}
        log(f"pids: {json.dumps(pids)}")
        if args.pause:
            input("press Enter to start the benchmark ")
        budget = 60 + (3.0 if args.quick else args.duration) * 8 + 6 * 150
        try:
            figures = asyncio.run(asyncio.wait_for(run_bench(infra, args), budget))
        except TimeoutError:
            log(f"benchmark did not finish within {budget:.0f}s; see {stack.logs}")
            return 2
        figures["cpus"] = os.cpu_count()
        figures["background_busy_pct_before_start"] = background
        figures["torch_threads"] = args.torch_threads or "default"
        figures["machine"] = platform.machine()
        print_report(figures)
        return 0
    finally:
        log("stopping the stack")
        infra.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(main())
