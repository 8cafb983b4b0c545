"""``satyamark``: run the whole system, try it, migrate.

satyamark run                      # every component, embedded defaults
satyamark verify "some claim"      # log in, submit, wait for the pushed verdict
satyamark watch                    # print every event pushed to the account
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

from .admin_cli import add_parser as add_admin_parser
from .client import AsyncSatyaMark, Outcome, SatyaMarkError
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


def _trust(url: str) -> ssl.SSLContext | None:
    """For https URLs: the system CAs plus the local self-signed certificate, if any."""
    if not url.startswith("https://"):
        return None
    context = ssl.create_default_context()
    local = DATA_DIR / "tls-cert.pem"
    if local.exists():
        context.load_verify_locations(cafile=str(local))
    return context


async def _client(args: argparse.Namespace) -> AsyncSatyaMark:
    """The SDK client for the CLI's account: an API key when given, else the local
    account (made on first use)."""
    trust = _trust(args.url)
    options: dict[str, Any] = {"verify": trust or True}
    if args.api_key:
        return AsyncSatyaMark(args.url, api_key=args.api_key, **options)
    email, password = _account(args.url, args.email, args.password)
    return await AsyncSatyaMark.login(args.url, email, password, register=True, **options)


def _progress(event: dict[str, Any]) -> None:
    if event.get("type") == "progress":
        print(f"{event.get('stage')} (attempt {event.get('attempt')})…", file=sys.stderr)


async def _verify_text(args: argparse.Namespace) -> Outcome:
    async with await _client(args) as client:
        submitted = await client.submit(args.text)
        if submitted.cached and submitted.result is not None:
            return Outcome(
                taskId=submitted.taskId, status="done", cached=True, result=submitted.result
            )
        print(f"queued as {submitted.taskId}; waiting for the pushed verdict…", file=sys.stderr)
        return await client.wait_for(submitted.taskId, timeout_s=args.timeout, on_event=_progress)


def _verify(args: argparse.Namespace) -> int:
    try:
        outcome = asyncio.run(_verify_text(args))
    except (SatyaMarkError, TimeoutError, OSError) as exc:
        print(f"verify failed: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(outcome.model_dump_json())
    elif outcome.error is not None:
        print(f"failed: {outcome.error.errorCode} {outcome.error.message}")
        return 1
    elif outcome.result is not None:
        result = outcome.result
        cached = " (cached)" if outcome.cached else ""
        print(f"{result.mark} ({result.confidence}%){cached}: {result.reason}")
        if result.method:
            print(f"  method: {result.method}")
    return 0


async def _watch_events(args: argparse.Namespace) -> None:
    async with await _client(args) as client:
        async for event in client.events(args.last_event_id):
            print(json.dumps(event), flush=True)


def _watch(args: argparse.Namespace) -> int:
    """Print every event pushed to the account, one JSON object per line, until Ctrl-C;
    reconnects (and catches up) by itself."""
    try:
        asyncio.run(_watch_events(args))
    except KeyboardInterrupt:
        return 0
    except SatyaMarkError as exc:
        print(f"watch failed: {exc}", file=sys.stderr)
        return 2
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from shared.db import main as db_main

    return db_main(["migrate"])


def _account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument(
        "--api-key", default=os.environ.get("SATYAMARK_API_KEY"), help="or SATYAMARK_API_KEY"
    )
    parser.add_argument("--email")
    parser.add_argument("--password")


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
    _account_options(verify)
    verify.add_argument("--timeout", type=float, default=600.0)
    verify.add_argument("--json", action="store_true", help="print the outcome as JSON")
    verify.set_defaults(func=_verify)
    watch = sub.add_parser("watch", help="print every event pushed to the account")
    _account_options(watch)
    watch.add_argument("--last-event-id", help="replay the events after this one first")
    watch.set_defaults(func=_watch)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=_migrate)
    add_kb_parser(sub)
    add_admin_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
