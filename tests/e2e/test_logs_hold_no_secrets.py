"""No secret, token, password or submitted text appears in any log line of any process.

The whole stack runs as real processes at ``LOG_LEVEL=DEBUG`` (its own stack: the
package's runs at INFO and shares its Redis with other modules), is driven through the
public API only, is stopped so every process flushes, and then every log file is scanned
for every secret the run knows: the stack's own (internal HMAC keys, callback secret,
JWT private key), the passwords and tokens it was given or handed out, every job_token
put on the stream, and a random marker in every submitted text.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
import websockets
from cryptography.hazmat.primitives import serialization
from ulid import ULID

from auth_service.config import parse_key_map
from auth_service.keyring import load_private_pem
from satyamark.devstack import Stack
from satyamark.infra import RedisServer
from shared import keys
from tests.e2e.stack import stack_options

pytestmark = pytest.mark.e2e

# Letters that never occur in hex, so a marker cannot show up by chance in a hash.
_MARKER_CHARS = "ghjkmnpqrstvwxyz"
# A run this long of a random secret's characters is a piece of it, not a coincidence.
_FRAGMENT = 16
_RUN = re.compile(rf"[A-Za-z0-9_\-+/]{{{_FRAGMENT},}}")
_JOB_TOKEN_SHAPE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])")
_RULES = {
    "verify": {"capacity": 100, "refill_per_s": 10},
    "auth": {"capacity": 1000, "refill_per_s": 100},
    "login-fail": {"capacity": 1000, "refill_per_s": 100},
}


def _marker() -> str:
    return "zq" + "".join(secrets.choice(_MARKER_CHARS) for _ in range(14))


@dataclass(frozen=True)
class Secret:
    label: str  # says what leaked without saying the value
    value: str
    pieces: bool = False  # a random value: any 16-character piece of it is a leak too


@dataclass
class Leak:
    where: str
    labels: list[str]
    line: str  # with every secret found replaced by its label


def _stack_secrets(env: dict[str, str]) -> list[Secret]:
    """The stack's own secrets, as its processes were given them."""
    found = [
        Secret("SATYAMARK_INTERNAL_TOKEN", env["SATYAMARK_INTERNAL_TOKEN"], pieces=True),
        Secret("CALLBACK_SECRET", env["CALLBACK_SECRET"], pieces=True),
    ]
    for kid, key in json.loads(env.get("SATYAMARK_INTERNAL_KEYS", "{}")).items():
        found.append(Secret(f"SATYAMARK_INTERNAL_KEYS[{kid}]", key, pieces=True))
    for kid, pem in parse_key_map(env["AUTH_JWT_KEYS"]).items():
        body = "".join(line for line in pem.strip().splitlines() if "-----" not in line)
        raw = load_private_pem(pem, kid).private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        found += [
            Secret(f"AUTH_JWT_KEYS[{kid}] PEM", body),
            Secret(f"AUTH_JWT_KEYS[{kid}] hex", raw.hex()),
            Secret(
                f"AUTH_JWT_KEYS[{kid}] base64",
                base64.b64encode(raw).decode().rstrip("="),
                pieces=True,
            ),
            Secret(
                f"AUTH_JWT_KEYS[{kid}] base64url",
                base64.urlsafe_b64encode(raw).decode().rstrip("="),
                pieces=True,
            ),
        ]
    return found


def _token_secrets(label: str, token: str) -> list[Secret]:
    signature = token.rsplit(".", 1)[-1]
    return [Secret(label, token), Secret(f"{label} (signature)", signature, pieces=True)]


class Finder:
    """Finds known secrets in a line: whole (case-insensitive), and for random values
    any 16-character piece, also one cut short or glued to other characters."""

    def __init__(self, known: list[Secret]) -> None:
        self.known = known
        self.pieces = {
            secret.value[i : i + _FRAGMENT]: secret.label
            for secret in known
            if secret.pieces
            for i in range(len(secret.value) - _FRAGMENT + 1)
        }

    def __call__(self, line: str) -> tuple[list[str], str]:
        """Labels of the secrets in ``line``, and the line with each replaced by its label."""
        labels: list[str] = []
        lowered = line.lower()
        for secret in self.known:
            if secret.value.lower() in lowered:
                labels.append(secret.label)
                line = re.sub(re.escape(secret.value), f"<{secret.label}>", line, flags=re.I)
        for run in _RUN.findall(line):
            for i in range(len(run) - _FRAGMENT + 1):
                label = self.pieces.get(run[i : i + _FRAGMENT])
                if label is not None:
                    labels.append(f"a piece of {label}")
                    line = line.replace(run, f"<piece of {label}>")
                    break
        return labels, line


def _log_files(stack: Stack, redis_server: RedisServer) -> list[Path]:
    return sorted(stack.logs.glob("*.log")) + sorted(redis_server.data_dir.glob("*.log"))


def _scan(files: list[Path], known: list[Secret], job_token_hashes: set[str]) -> list[Leak]:
    find = Finder(known)
    leaks = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            labels, redacted = find(line)
            for candidate in _JOB_TOKEN_SHAPE.findall(line):
                if hashlib.sha256(candidate.encode()).hexdigest() in job_token_hashes:
                    labels.append("a job_token (found by its stored hash)")
                    redacted = redacted.replace(candidate, "<job_token>")
            if labels:
                leaks.append(Leak(f"{path.name}:{number}", labels, redacted[:300]))
    return leaks


class JobTap(threading.Thread):
    """Reads every job ai_service puts on the stream (plain XREAD: no group, so it takes
    nothing from the workers) to learn the job_tokens the run handed out."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.tokens: set[str] = set()
        self.stopping = threading.Event()

    def run(self) -> None:
        last = "0-0"
        while not self.stopping.is_set():
            answer: Any = self.client.xread({keys.JOB_STREAM: last}, count=100, block=100)
            for _, entries in answer or []:
                for entry_id, fields in entries:
                    last = entry_id
                    if fields.get("job_token"):
                        self.tokens.add(fields["job_token"])

    def stop(self) -> set[str]:
        self.stopping.set()
        self.join(5)
        self.client.close()
        return self.tokens


@dataclass
class DebugStack:
    stack: Stack
    redis_server: RedisServer


@pytest.fixture(scope="module")
def debug_stack(
    tmp_path_factory: pytest.TempPathFactory, pg_server_url: str
) -> Iterator[DebugStack]:
    root = tmp_path_factory.mktemp("logstack")
    redis_server = RedisServer(root / "redis", appendonly=False).start()
    database = pg_server_url.rsplit("/", 1)[0] + f"/satyamark_logs_{ULID().hex[-10:].lower()}"
    # Two rotating HMAC keys, so the keyring's secrets are covered as well as the token.
    internal_keys = {"k1": secrets.token_urlsafe(32), "k2": secrets.token_urlsafe(32)}
    options = stack_options(
        root,
        redis_server.url,
        database,
        {
            "LOG_LEVEL": "DEBUG",
            "RATELIMIT_RULES": json.dumps(_RULES),
            "SATYAMARK_INTERNAL_KEYS": json.dumps(internal_keys),
            "SATYAMARK_INTERNAL_ACTIVE_KID": "k2",
        },
    )
    stack = Stack(options)
    try:
        yield DebugStack(stack.start(), redis_server)
    finally:
        stack.stop()
        redis_server.stop()
        asyncio.run(_drop_database(database))


async def _drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def api(debug_stack: DebugStack) -> AsyncIterator[httpx.AsyncClient]:
    url = debug_stack.stack.gateway_url
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Run:
    """What the run handed to the stack or got from it, to look for in the logs."""

    def __init__(self, api: httpx.AsyncClient, ws_url: str) -> None:
        self.api = api
        self.ws_url = ws_url
        self.secrets: list[Secret] = []

    def password(self, who: str) -> str:
        value = f"Pw-{_marker()}-{secrets.token_urlsafe(9)}"
        self.secrets.append(Secret(f"password ({who})", value))
        return value

    def text(self, template: str) -> tuple[str, str]:
        marker = _marker()
        self.secrets.append(Secret(f"submitted text marker ({template[:24]!r})", marker))
        return marker, template.format(m=marker)

    def tokens(self, who: str, answer: httpx.Response) -> str:
        body = answer.json()
        self.secrets += _token_secrets(f"access token ({who})", body["access_token"])
        if body.get("refresh_token"):
            self.secrets.append(
                Secret(f"refresh token ({who})", body["refresh_token"], pieces=True)
            )
        return str(body["access_token"])

    async def register(self, who: str) -> tuple[str, str, str]:
        email = f"{who}-{ULID().hex[-8:].lower()}@example.com"
        password = self.password(who)
        answer = await self.api.post(
            "/v1/auth/register", json={"email": email, "password": password}
        )
        assert answer.status_code == 201, answer.text
        return email, password, self.tokens(who, answer)

    async def socket(self, token: str, *, first_message: bool) -> Any:
        if first_message:
            ws = await websockets.connect(self.ws_url)
            await ws.send(json.dumps({"type": "auth", "token": token}))
        else:
            ws = await websockets.connect(self.ws_url, additional_headers=_bearer(token))
        ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ready["type"] == "ready", ready
        return ws

    async def refused_socket(self, token: str, *, first_message: bool) -> None:
        try:
            if first_message:
                ws = await websockets.connect(self.ws_url)
                await ws.send(json.dumps({"type": "auth", "token": token}))
            else:
                ws = await websockets.connect(self.ws_url, additional_headers=_bearer(token))
            async with ws:
                while True:  # an error frame, then the close
                    json.loads(await asyncio.wait_for(ws.recv(), 10))
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401, closed
        except websockets.InvalidStatus as refused:
            assert refused.response.status_code in (401, 403), refused


async def _outcomes(ws: Any, task_ids: set[str], wait_s: float = 60) -> dict[str, Any]:
    """The pushed result/failed event of each task in ``task_ids``."""
    events: dict[str, Any] = {}
    deadline = asyncio.get_running_loop().time() + wait_s
    while not task_ids <= events.keys():
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"no push for {sorted(task_ids - events.keys())}"
        event = json.loads(await asyncio.wait_for(ws.recv(), left))
        if event.get("type") in ("result", "failed"):
            events[event["taskId"]] = event
    return events


async def _drive(run: Run, api: httpx.AsyncClient) -> tuple[set[str], str]:
    """Everything a client can do; returns the queued task ids and the failing one."""
    alice_email, alice_password, alice = await run.register("alice")
    _, _, bob = await run.register("bob")
    # refused credentials are as secret as accepted ones
    wrong = await api.post(
        "/v1/auth/login", json={"email": alice_email, "password": run.password("wrong")}
    )
    assert wrong.status_code == 401, wrong.text
    nobody = await api.post(
        "/v1/auth/login",
        json={"email": "nobody@example.com", "password": run.password("unknown user")},
    )
    assert nobody.status_code == 401, nobody.text
    too_long = run.password("too long") + "x" * 130
    assert (
        await api.post("/v1/auth/register", json={"email": "x@example.com", "password": too_long})
    ).status_code == 422
    login = await api.post(
        "/v1/auth/login", json={"email": alice_email, "password": alice_password}
    )
    assert login.status_code == 200, login.text
    alice2 = run.tokens("alice, second login", login)

    sockets = [
        await run.socket(alice, first_message=False),
        await run.socket(alice2, first_message=True),
    ]
    bob_ws = await run.socket(bob, first_message=True)
    # messages after auth, with submitted text in them
    await sockets[0].send(run.text('{{"type": "note-{m}"}}')[1])
    await sockets[1].send(run.text("not json {m}")[1])

    queued: dict[str, set[str]] = {"alice": set(), "bob": set()}
    texts = [
        ("alice", run.text("{m} The Eiffel Tower is in Paris. {m}")[1]),
        ("alice", run.text("Mount Everest is the highest mountain on Earth, says {m}.")[1]),
        ("bob", run.text("Lightning never strikes the same place twice ({m}).")[1]),
        # not English: fails in the worker (WK-INPUT-LANGUAGE)
        ("bob", run.text("यह वाक्य हिंदी में लिखा गया है और इसमें कोई अंग्रेज़ी नहीं है: {m}")[1]),
    ]
    tokens = {"alice": alice, "bob": bob}
    failing = ""
    for who, text in texts:
        answer = await api.post("/v1/verify", json={"text": text}, headers=_bearer(tokens[who]))
        assert answer.status_code == 202, answer.text
        queued[who].add(answer.json()["taskId"])
        if "हिंदी" in text:
            failing = answer.json()["taskId"]
    # refused at the edge or by the backend: too long, empty-ish, NUL, bad JSON, too big,
    # wrong content type
    refused_bodies = [
        (json.dumps({"text": run.text("{m}")[1] + "a" * 20_001}), "application/json"),
        (json.dumps({"text": run.text("{m}\x00")[1]}), "application/json"),
        (json.dumps({"text": run.text("A bell rings\x07 here: {m}")[1]}), "application/json"),
        ('{"text": "' + run.text("{m}")[1], "application/json"),
        (json.dumps({"text": run.text("{m}")[1] + "b" * 70_000}), "application/json"),
        (json.dumps({"text": run.text("{m}")[1]}), "text/plain"),
        (json.dumps({"text": run.text("{m}")[1], "admin": True}), "application/json"),
    ]
    for body, content_type in refused_bodies:
        answer = await api.post(
            "/v1/verify", content=body, headers={**_bearer(bob), "content-type": content_type}
        )
        assert 400 <= answer.status_code < 500, (answer.status_code, body[:30])
    for blank in ("", "   "):
        answer = await api.post("/v1/verify", json={"text": blank}, headers=_bearer(bob))
        assert 400 <= answer.status_code < 500, answer.text

    for ws in sockets:
        assert (await _outcomes(ws, queued["alice"])).keys() == queued["alice"]
    bob_events = await _outcomes(bob_ws, queued["bob"])
    assert bob_events[failing]["type"] == "failed", bob_events[failing]

    # cache hits, the same text and a cosmetic change of it
    for text in (texts[0][1], texts[0][1].upper()):
        hit = await api.post("/v1/verify", json={"text": text}, headers=_bearer(bob))
        assert hit.status_code == 200 and hit.json()["cached"] is True, hit.text
    for who, ids in queued.items():
        for task_id in ids:
            task = await api.get(f"/v1/tasks/{task_id}", headers=_bearer(tokens[who]))
            assert task.status_code == 200 and task.json()["status"] in ("done", "failed")
    # resume with the last event seen, the browser way
    resumed = await websockets.connect(run.ws_url)
    last = next(iter(bob_events.values()))["eventId"]
    await resumed.send(json.dumps({"type": "auth", "token": bob, "lastEventId": last}))
    assert json.loads(await asyncio.wait_for(resumed.recv(), 10))["type"] == "ready"
    for ws in [*sockets, bob_ws, resumed]:
        await ws.close()

    # bad tokens: a forged signature on a real token, and one logged out
    forged = alice.rsplit(".", 1)[0] + "." + _marker() + secrets.token_urlsafe(60)
    run.secrets += _token_secrets("forged token", forged)
    assert (await api.get(f"/v1/tasks/{ULID()}", headers=_bearer(forged))).status_code == 401
    await run.refused_socket(forged, first_message=False)
    await run.refused_socket(forged, first_message=True)
    assert (await api.post("/v1/auth/logout", headers=_bearer(alice2))).status_code == 204
    assert (await api.get(f"/v1/tasks/{ULID()}", headers=_bearer(alice2))).status_code == 401
    await run.refused_socket(alice2, first_message=True)
    return queued["alice"] | queued["bob"], failing


async def test_no_log_line_holds_a_secret(debug_stack: DebugStack, api: httpx.AsyncClient) -> None:
    stack = debug_stack.stack
    run = Run(api, stack.gateway_url.replace("http://", "ws://") + "/v1/ws")
    tap = JobTap(stack.redis_url)
    tap.start()
    try:
        task_ids, failing = await _drive(run, api)
    finally:
        job_tokens = tap.stop()
    assert len(job_tokens) >= len(task_ids), "the tap missed jobs"

    conn = await asyncpg.connect(stack.database_url)
    try:
        hashes = await conn.fetch(
            "SELECT job_token_hash FROM ai_results WHERE job_token_hash <> ''"
        )
    finally:
        await conn.close()
    stack.stop()  # every process exits and flushes what it buffered

    known = _stack_secrets(stack.env) + run.secrets
    known += [Secret("job_token", token, pieces=True) for token in job_tokens]
    files = _log_files(stack, debug_stack.redis_server)
    lines = {path.name: path.read_bytes().count(b"\n") for path in files}
    # the scan must have seen every process's log, at DEBUG, including the run itself
    assert {f"{name}.log" for name in stack.components} <= lines.keys(), sorted(lines)
    empty = [name for name, count in lines.items() if count == 0]
    assert not empty, f"empty logs: {empty}"
    everything = b"".join(path.read_bytes() for path in files)
    # a DEBUG record in either LOG_FORMAT: json (the default) or text
    debug = (b'"level": "DEBUG"', b" DEBUG ")
    assert any(level in everything for level in debug), "LOG_LEVEL=DEBUG was not honoured"
    workers = b"".join(path.read_bytes() for path in files if path.name.startswith("worker-"))
    assert failing.encode() in workers, "the failed task is in no worker log: wrong files?"

    leaks = _scan(files, known, {row["job_token_hash"] for row in hashes})
    print(f"scanned {sum(lines.values())} lines in {len(files)} files for {len(known)} secrets")
    report = "\n".join(f"{leak.where}: {', '.join(leak.labels)}: {leak.line}" for leak in leaks)
    assert not leaks, f"{len(leaks)} log lines hold secrets:\n{report}"
