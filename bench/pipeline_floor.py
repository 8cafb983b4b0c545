"""The floor of this architecture in Python on this machine: a trivial chain of five HTTP
hops, the number a submitted task takes (client -> gateway, gateway -> ratelimit_service,
gateway -> backend_service, backend_service -> ai_service, worker -> result_receiver).

Each hop is its own process on the servers we run (uvicorn with uvloop and httptools), a
bare ASGI app that reads the body and, but for the last, posts it to the next hop over a
kept-alive aiohttp session and answers with what came back: no framework, no store, no
logic. ``bench/pipeline.py`` prints its CPU per request beside ours and the ratio.

    .venv/bin/python bench/pipeline_floor.py --quick     # on its own
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

if not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401
import aiohttp

from bench.pipeline_common import log, ms, pct, run_main
from bench.procstat import cpu_seconds, machine_busy_seconds

HOPS = 5
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def hop_app(next_url: str | None) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    session: aiohttp.ClientSession | None = None

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal session
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            if session is not None:
                await session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if next_url is None:
            answer = b'{"status":"queued"}'
        else:
            if session is None:
                session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            async with session.post(
                next_url, data=body, headers={"content-type": "application/json"}
            ) as response:
                answer = await response.read()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, next_url: str | None) -> None:
    import uvicorn

    uvicorn.run(
        hop_app(next_url),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
    )


async def _wait_up(url: str, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.post(url, data=b"{}") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"floor hop at {url} did not start")
            await asyncio.sleep(0.1)


async def _load(url: str, concurrency: int, duration_s: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    body = b'{"text":"' + b"x" * 200 + b'"}'
    stop = time.monotonic() + duration_s
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_loop() -> None:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                async with session.post(url, data=body) as response:
                    await response.read()
                    if response.status == 200:
                        latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(one_loop() for _ in range(concurrency)))
    return len(latencies), latencies


async def _phases(url: str, pids: list[int], duration_s: float) -> dict[str, Any]:
    await _wait_up(url)
    await _load(url, 4, 1.0)  # warm-up: connections and first-call costs
    out: dict[str, Any] = {"hops": HOPS}
    for conc in (16, 64):
        busy0, hops0, t0 = machine_busy_seconds(), cpu_seconds(pids), time.monotonic()
        done, latencies = await _load(url, conc, duration_s)
        elapsed = time.monotonic() - t0
        busy, hops = machine_busy_seconds() - busy0, cpu_seconds(pids) - hops0
        out[f"c{conc}"] = {
            "ok_per_s": round(done / elapsed, 1),
            "p50_ms": ms(pct(latencies, 50)),
            "p99_ms": ms(pct(latencies, 99)),
            "cpu_ms_per_request_machine": round(busy / max(done, 1) * 1000, 2),
            "cpu_ms_per_request_hops": round(hops / max(done, 1) * 1000, 2),
        }
    return out


def measure(duration_s: float) -> dict[str, Any]:
    """Start the chain, load it at concurrency 16 and 64, stop it: per phase requests/s,
    latency and CPU ms per request (the whole machine, and the hops alone)."""
    ports = [_free_port() for _ in range(HOPS)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in reversed(range(HOPS)):
            next_url = f"http://127.0.0.1:{ports[i + 1]}/" if i + 1 < HOPS else ""
            command = [sys.executable, __file__, "--serve", str(ports[i]), "--next", next_url]
            procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        url = f"http://127.0.0.1:{ports[0]}/"
        return asyncio.run(_phases(url, [p.pid for p in procs], duration_s))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 s phases instead of 10 s")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--next", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.next or None)
        return 0
    figures = measure(3.0 if args.quick else 10.0)
    log(f"floor ({HOPS} trivial hops): {figures}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    run_main(main)
