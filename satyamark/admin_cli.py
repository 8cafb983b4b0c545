"""``satyamark admin …``: operate a running SatyaMark.

    satyamark admin grant EMAIL | revoke EMAIL      # the admin role (straight in PostgreSQL)
    satyamark admin queue                           # backlog, pending, workers, intake
    satyamark admin pause [--reason TEXT] | resume  # the intake switch
    satyamark admin audit [--limit N]               # who did what, newest first
    satyamark admin dlq list | show ID | replay ID… | discard ID… [--reason TEXT]
    satyamark admin dlq replay|discard [--error-code C] [--older-than S]   # by filter
    satyamark admin tasks [--status failed] [--user ID] [--since TIME] | tasks retry ID…
    satyamark admin workers pause | resume          # workers finish what they hold

``grant``/``revoke`` write PostgreSQL directly (``DATABASE_URL``, else the stack that
``satyamark run`` started from this folder) and are audited as ``cli:<os user>``; a
role shows in tokens issued from then on (log in again, or the next refresh). The other
commands call the public admin API as an admin (``--email``/``--password`` or
``SATYAMARK_EMAIL``/``SATYAMARK_PASSWORD``; ``--url`` or ``SATYAMARK_URL``). Aligned
tables for people, ``--json`` for scripts. Exit codes: 0 done, 1 refused or failed,
3 not an admin, 4 SatyaMark unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from typing import Any

import asyncpg
import httpx

from shared import audit

from .commands import add_command
from .local import database_url, gateway_url

EXIT_FAILED, EXIT_NOT_ADMIN, EXIT_UNREACHABLE = 1, 3, 4


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[str("" if row.get(c) is None else row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


# -- roles (PostgreSQL) ---------------------------------------------------------------


async def _set_role(email: str, role: str) -> tuple[str, str]:
    try:
        conn = await asyncpg.connect(database_url(), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise CliError(f"PostgreSQL unreachable ({exc})", EXIT_UNREACHABLE) from exc
    try:
        done = await audit.set_role(conn, email, role, actor=f"cli:{getpass.getuser()}")
    finally:
        await conn.close()
    if done is None:
        raise CliError(f"no user with e-mail {email}")
    return done


def _role(args: argparse.Namespace) -> dict[str, Any]:
    role = "admin" if args.admin_command == "grant" else "user"
    user_id, before = asyncio.run(_set_role(args.email, role))
    return {"userId": user_id, "email": args.email, "before": before, "role": role}


# -- the admin API --------------------------------------------------------------------


async def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    email = args.email or os.environ.get("SATYAMARK_EMAIL")
    password = args.password or os.environ.get("SATYAMARK_PASSWORD")
    if not email or not password:
        raise CliError("give --email and --password (or SATYAMARK_EMAIL/SATYAMARK_PASSWORD)")
    try:
        async with httpx.AsyncClient(base_url=args.url or gateway_url(), timeout=30) as client:
            login = await client.post("/v1/auth/login", json={"email": email, "password": password})
            if login.status_code != 200:
                raise CliError(f"login failed: {login.status_code} {login.text}")
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            answer = await client.request(method, f"/v1/admin{path}", headers=headers, **kwargs)
    except httpx.TransportError as exc:
        raise CliError(f"SatyaMark unreachable ({exc})", EXIT_UNREACHABLE) from exc
    if answer.status_code == 403:
        raise CliError(answer.json().get("message", "not an admin"), EXIT_NOT_ADMIN)
    if answer.status_code >= 400:
        raise CliError(f"{answer.status_code} {answer.text}")
    return answer.json()


def _queue(args: argparse.Namespace) -> dict[str, Any]:
    return dict(asyncio.run(_call(args, "GET", "/queue")))


def _intake(args: argparse.Namespace) -> dict[str, Any]:
    body = {"paused": args.admin_command == "pause", "reason": getattr(args, "reason", None)}
    return dict(asyncio.run(_call(args, "POST", "/intake", json=body)))


def _audit(args: argparse.Namespace) -> dict[str, Any]:
    return dict(asyncio.run(_call(args, "GET", "/audit", params={"limit": args.limit})))


async def _dlq_actions(args: argparse.Namespace) -> dict[str, Any]:
    """Replay or discard each id in turn (each is idempotent on its own), or with no
    ids every entry the filter matches."""
    if not args.ids:
        body = {
            "errorCode": args.error_code,
            "olderThanS": args.older_than,
            "limit": args.limit,
            "reason": args.reason,
        }
        return dict(await _call(args, "POST", f"/dlq/{args.action}", json=body))
    results = []
    for entry_id in args.ids:
        if args.action == "replay":
            body = {"reason": args.reason}
            results.append(await _call(args, "POST", f"/dlq/{entry_id}/replay", json=body))
        else:
            params = {"reason": args.reason} if args.reason else {}
            results.append(await _call(args, "DELETE", f"/dlq/{entry_id}", params=params))
    return {"items": results}


def _dlq(args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "list":
        return dict(asyncio.run(_call(args, "GET", "/dlq", params={"limit": args.limit})))
    if args.action == "show":
        if not args.ids:
            raise CliError("dlq show needs an entry id")
        return dict(asyncio.run(_call(args, "GET", f"/dlq/{args.ids[0]}")))
    return asyncio.run(_dlq_actions(args))


def _workers(args: argparse.Namespace) -> dict[str, Any]:
    body = {"paused": args.action == "pause", "reason": args.reason}
    return dict(asyncio.run(_call(args, "POST", "/workers", json=body)))


def _tasks(args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "retry":
        if not args.ids:
            raise CliError("tasks retry needs at least one task id")

        async def retry_all() -> dict[str, Any]:
            body = {"reason": args.reason}
            calls = [_call(args, "POST", f"/tasks/{t}/retry", json=body) for t in args.ids]
            return {"items": [await call for call in calls]}

        return asyncio.run(retry_all())
    params: dict[str, str | int] = {"limit": args.limit}
    for name in ("status", "user", "since"):
        if getattr(args, name):
            params[name] = getattr(args, name)
    return dict(asyncio.run(_call(args, "GET", "/tasks", params=params)))


def _print(command: str, result: dict[str, Any]) -> None:
    if command in ("grant", "revoke"):
        print(f"{result['email']}: {result['before']} -> {result['role']}")
    elif command == "queue":
        intake = result["intake"]
        state = "paused" if intake["paused"] else "open"
        if intake["paused"] and intake.get("reason"):
            state += f" ({intake['reason']})"
        print(
            f"backlog {result['backlog']}  pending {result['pending']}  oldest pending "
            f"{result['oldestPendingAgeS']:.1f}s  dead letters {result['dlq']}  finished "
            f"last minute {result['finishedLastMinute']}  intake {state}"
        )
        if result["consumers"]:
            print(_table(result["consumers"], ["name", "inFlight", "idleMs", "lastSeenMs"]))
        if result.get("pendingEntries"):
            columns = ["entryId", "consumer", "idleMs", "deliveries"]
            print(_table(result["pendingEntries"], columns))
    elif command in ("pause", "resume"):
        print("intake paused" if result["paused"] else "intake open")
    elif command == "workers":
        print("workers paused" if result["paused"] else "workers reading")
    elif command == "audit":
        print(_table(result["items"], ["id", "at", "actor", "action", "target", "reason"]))
    elif command == "tasks" and result["items"] and "retried" in result["items"][0]:
        for item in result["items"]:
            print(f"{item['taskId']}: {'retried' if item['retried'] else item.get('why')}")
    elif command == "tasks":
        columns = ["taskId", "userId", "status", "errorCode", "createdAt", "completedAt"]
        print(_table(result["items"], columns))
    elif command == "dlq" and "job" in result:  # show
        for name, value in result.items():
            if name not in ("job", "attempts"):
                print(f"{name}: {value}")
        for attempt in result["attempts"]:
            print(f"attempt {attempt['attempt']} on {attempt['worker']}: {attempt['errorCode']}")
        for name, value in result["job"].items():
            print(f"job.{name}: {value}")
    elif command == "dlq" and result["items"] and "diedAt" in result["items"][0]:
        columns = ["entryId", "diedAt", "taskId", "errorCode", "deliveries"]
        print(_table(result["items"], columns))
    elif command == "dlq":
        for item in result["items"]:
            done = item.get("replayed", item.get("discarded"))
            print(f"{item['entryId']}: {'done' if done else item.get('why', 'nothing to do')}")


def _run(args: argparse.Namespace) -> int:
    try:
        result = args.admin_func(args)
    except CliError as exc:
        print(f"satyamark admin {args.admin_command}: {exc}", file=sys.stderr)
        return exc.code
    if args.json:
        print(json.dumps(result))
    else:
        _print(args.admin_command, result)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``admin`` and its subcommands on the ``satyamark`` parser."""
    admin = add_command(
        sub, "admin", "operate a running SatyaMark (roles, queue, intake, audit)", __doc__
    )
    admin.set_defaults(func=_run)
    verbs = admin.add_subparsers(dest="admin_command", required=True)

    def verb(name: str, help_text: str, func: Any, api: bool = True) -> argparse.ArgumentParser:
        parser = verbs.add_parser(name, help=help_text)
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        if api:
            parser.add_argument("--url", help="gateway URL (default: the local stack)")
            parser.add_argument("--email", help="an admin's e-mail")
            parser.add_argument("--password", help="an admin's password")
        parser.set_defaults(admin_func=func)
        return parser

    verb("grant", "give a user the admin role", _role, api=False).add_argument("email")
    verb("revoke", "take the admin role away", _role, api=False).add_argument("email")
    verb("queue", "the queue at a glance", _queue)
    verb("pause", "stop taking new texts (cache hits still answer)", _intake).add_argument(
        "--reason", help="why (shown to operators, kept in the audit trail)"
    )
    verb("resume", "take new texts again", _intake)
    verb("audit", "admin actions, newest first", _audit).add_argument(
        "--limit", type=int, default=50
    )
    dead = verb("dlq", "dead letters: list, show ID, replay ID..., discard ID...", _dlq)
    dead.add_argument("action", choices=["list", "show", "replay", "discard"])
    dead.add_argument("ids", nargs="*", metavar="ENTRY_ID")
    dead.add_argument("--reason", help="why (kept in the audit trail; told on discard)")
    dead.add_argument("--limit", type=int, default=50)
    dead.add_argument("--error-code", help="replay/discard without ids: only this errorCode")
    dead.add_argument(
        "--older-than", type=float, help="replay/discard without ids: died over S seconds ago"
    )
    switch = verb("workers", "stop workers reading new jobs (pause), or resume", _workers)
    switch.add_argument("action", choices=["pause", "resume"])
    switch.add_argument("--reason", help="why (kept in the audit trail)")
    found = verb("tasks", "find tasks (list), or run failed ones again (retry ID...)", _tasks)
    found.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    found.add_argument("ids", nargs="*", metavar="TASK_ID")
    found.add_argument("--status", choices=["queued", "done", "failed"])
    found.add_argument("--user", help="the owner's user id")
    found.add_argument("--since", help="ISO 8601 time")
    found.add_argument("--reason", help="why (kept in the audit trail)")
    found.add_argument("--limit", type=int, default=50)
