"""Minimal callback receiver for bench/queue.py (main venv): verify, count, answer 200.

Each POST is checked with ``shared.signing.verify`` (401 when the signature is wrong,
counted in ``bench:badsig``). An authentic delivery of one result INCRs the completion
counter, the same single INCR per job that the peers' task functions do, and answers
200; a batch (a JSON array, see worker/callback.py) adds its length with one INCRBY and
answers 200 for each item, as result_receiver does.

    .venv/bin/python bench/peers/receiver.py --port P --redis URL --counter KEY
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from aiohttp import web  # noqa: E402

from shared.signing import SignatureError, verify  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--redis", required=True)
    ap.add_argument("--counter", default="bench:done")
    args = ap.parse_args()
    secret = os.environ["CALLBACK_SECRET"].encode()
    # A blocking pool: past 64 connections requests wait instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(args.redis, max_connections=64, timeout=10)
    client = aioredis.Redis.from_pool(pool)

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            verify(secret, dict(request.headers), body)
        except SignatureError as exc:
            await client.incr("bench:badsig")
            return web.json_response({"error": exc.reason}, status=401)
        if body.lstrip()[:1] != b"[":
            await client.incr(args.counter)
            return web.json_response({"status": "ok"})
        items = orjson.loads(body)
        await client.incrby(args.counter, len(items))
        return web.json_response(
            {"results": [{"taskId": item["taskId"], "status": 200} for item in items]}
        )

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/callback", handle)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
