"""``satyamark``: run the whole system, try it, migrate.

satyamark run                      # every component, embedded defaults
satyamark verify "some claim"      # log in, submit, wait for the pushed verdict
satyamark migrate                  # apply database migrations (DATABASE_URL)
satyamark kb load --starter        # load fact-check files into the knowledge base
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from .admin_cli import add_parser as add_admin_parser
from .kb_cli import add_parser as add_kb_parser

DEFAULT_URL = os.environ.get("SATYAMARK_URL", "http://127.0.0.1:8000")
DATA_DIR = Path(os.environ.get("SATYAMARK_DATA_DIR", ".satyamark"))


def _run(args: argparse.Namespace) -> int:
    from .devstack import Stack, StackOptions

    options = StackOptions(
        data_dir=DATA_DIR.resolve(),
        redis_url=os.environ.get("REDIS_URL"),
        database_url=os.environ.get("DATABASE_URL"),
        workers=args.workers,
        ws_instances=args.ws_instances,
        gateway_tls=args.tls,
        # SATYAMARK_FREE_PORTS=1: all on free ports, leaving 8000-8006 to a `make run`.
        default_ports=os.environ.get("SATYAMARK_FREE_PORTS") != "1",
        patient=True,
    )
    stack = Stack(options)
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("starting SatyaMark (Redis, PostgreSQL, 8 components)…", flush=True)
    try:
        stack.start(should_stop=lambda: stopping)
        if stopping:
            return 0
        print(f"\nSatyaMark is up: {stack.gateway_url}  (API docs: {stack.gateway_url}/docs)")
        print(f"  logs:   {stack.logs}")
        print(f"  redis:  {stack.redis_url}\n  db:     {stack.database_url}")
        scrape = stack.options.data_dir / "prometheus.yml"
        print(f"  metrics: prometheus --config.file={scrape}")
        url_flag = f" --url {stack.gateway_url}" if args.tls else ""
        print(f'  try:    .venv/bin/satyamark verify{url_flag} "The Eiffel Tower is in Paris."')
        print("Ctrl-C stops everything.", flush=True)
        while not stopping:
            for name in stack.supervise_once():
                print(stack.restart_note(name), flush=True)
            time.sleep(0.5)
    except RuntimeError as exc:
        print(f"failed to start: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nstopping…", flush=True)
        stack.stop()
    return 0


def _account(url: str, email: str | None, password: str | None) -> tuple[str, str]:
    """The given account, or a local demo account made once and remembered."""
    if email and password:
        return email, password
    path = DATA_DIR / "cli-account.json"
    if path.exists():
        saved = json.loads(path.read_text())
        return saved["email"], saved["password"]
    DATA_DIR.mkdir(exist_ok=True)
    account = {
        "email": f"demo-{secrets.token_hex(4)}@satyamark.local",
        "password": secrets.token_urlsafe(16),
    }
    path.write_text(json.dumps(account))
    path.chmod(0o600)
    return account["email"], account["password"]


async def _token(client: httpx.AsyncClient, email: str, password: str) -> str:
    body = {"email": email, "password": password}
    response = await client.post("/v1/auth/login", json=body)
    if response.status_code == 401:
        response = await client.post("/v1/auth/register", json=body)
    if response.status_code not in (200, 201):
        raise SystemExit(f"login failed: {response.status_code} {response.text}")
    return str(response.json()["access_token"])


def _trust(url: str) -> ssl.SSLContext | None:
    """For https URLs: the system CAs plus the local self-signed certificate, if any."""
    if not url.startswith("https://"):
        return None
    context = ssl.create_default_context()
    local = DATA_DIR / "tls-cert.pem"
    if local.exists():
        context.load_verify_locations(cafile=str(local))
    return context


async def verify_text(
    url: str, text: str, email: str, password: str, wait_s: float
) -> dict[str, Any]:
    trust = _trust(url)
    async with httpx.AsyncClient(base_url=url, timeout=30, verify=trust or True) as client:
        token = await _token(client, email, password)
        ws_url = url.replace("http", "ws", 1) + "/v1/ws"
        # Listen before submitting so the push cannot arrive before we do.
        async with websockets.connect(
            ws_url, additional_headers={"Authorization": f"Bearer {token}"}, ssl=trust
        ) as ws:
            ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if ready.get("type") != "ready":
                raise SystemExit(f"websocket refused: {ready}")
            response = await client.post(
                "/v1/verify", json={"text": text}, headers={"Authorization": f"Bearer {token}"}
            )
            body = response.json()
            if response.status_code == 200:
                return {"taskId": body["taskId"], "cached": True, **body["result"]}
            if response.status_code != 202:
                raise SystemExit(f"verify failed: {response.status_code} {body}")
            task_id = body["taskId"]
            print(f"queued as {task_id}; waiting for the pushed verdict…", file=sys.stderr)
            deadline = time.monotonic() + wait_s
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit("no verdict pushed in time")
                event = json.loads(await asyncio.wait_for(ws.recv(), left))
                if event.get("taskId") == task_id and event.get("type") == "progress":
                    print(
                        f"{event.get('stage')} (attempt {event.get('attempt')})…", file=sys.stderr
                    )
                elif event.get("taskId") == task_id:
                    return dict(event)
                if event.get("type") in ("resync", "truncated"):
                    # Events may have been lost server-side: the API has the truth.
                    final = await _final_task(client, token, task_id)
                    if final is not None:
                        return final


async def _final_task(client: httpx.AsyncClient, token: str, task_id: str) -> dict[str, Any] | None:
    """The task's outcome as a pushed event would carry it, or None while it is queued."""
    response = await client.get(
        f"/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"}
    )
    task = response.json() if response.status_code == 200 else {}
    if task.get("status") == "done":
        return {"type": "result", "taskId": task_id, "cached": task["cached"], **task["result"]}
    if task.get("status") == "failed":
        return {"type": "failed", "taskId": task_id, **task["error"]}
    return None


def _verify(args: argparse.Namespace) -> int:
    email, password = _account(args.url, args.email, args.password)
    event = asyncio.run(verify_text(args.url, args.text, email, password, args.timeout))
    if args.json:
        print(json.dumps(event))
    elif event.get("type") == "failed":
        print(f"failed: {event.get('errorCode')} {event.get('message')}")
        return 1
    else:
        cached = " (cached)" if event.get("cached") else ""
        print(f"{event['mark']} ({event['confidence']}%){cached}: {event['reason']}")
        if event.get("method"):
            print(f"  method: {event['method']}")
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from shared.db import main as db_main

    return db_main(["migrate"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="satyamark", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole system")
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--ws-instances", type=int, default=2)
    run.add_argument(
        "--tls",
        action="store_true",
        help="serve the gateway over HTTPS with a local self-signed certificate",
    )
    run.set_defaults(func=_run)
    verify = sub.add_parser("verify", help="submit a text and wait for its verdict")
    verify.add_argument("text")
    verify.add_argument("--url", default=DEFAULT_URL)
    verify.add_argument("--email")
    verify.add_argument("--password")
    verify.add_argument("--timeout", type=float, default=600.0)
    verify.add_argument("--json", action="store_true", help="print the raw event")
    verify.set_defaults(func=_verify)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=_migrate)
    add_kb_parser(sub)
    add_admin_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
