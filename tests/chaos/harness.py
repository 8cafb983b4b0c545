"""Chaos-test harness: public-API clients that survive a stack being killed under them,
plus what the test reads back (worker model-run logs, PostgreSQL rows).

Clients only use the public API through the gateway:

- ``submit`` retries an attempt that got a 5xx, a 429 or a connection error; a taskId is
  remembered as *accepted* only from a 202.
- ``Listener`` keeps one WebSocket of a user open, reconnecting after every drop with
  the last ``eventId`` it saw (``"0-0"`` before the first: replay everything logged),
  counts the final events (``result``/``failed``) it got per taskId, and notes when the
  server said events may be gone (``truncated``, ``resync``): a real client then reloads
  its tasks from the API.

Model runs are counted from the workers' logs: with ``WORKER_MIN_JOB_MS`` set the
worker logs ``model run: <n> texts [<fingerprint> ...]`` before every model call
(``worker.model.PacedJudge``), fingerprint = ``worker.model.text_fingerprint(text)``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import websockets
from ulid import ULID

FINAL = ("result", "failed")
_RUN_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO worker\.model "
    r"model run: \d+ texts \[([0-9a-f ]*)\]"
)
_RUN_EVENT = re.compile(r"^model run: \d+ texts \[([0-9a-f ]*)\]")


class Refused(AssertionError):
    """The API answered a submission with a status that retrying cannot fix."""


@dataclass
class User:
    name: str
    user_id: str
    token: str
    accepted: dict[str, str] = field(default_factory=dict)  # taskId -> text (202 only)
    cached: list[str] = field(default_factory=list)  # texts answered 200 from cache
    retried: int = 0  # submit attempts that got a 5xx / 429 / connection error

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(api: httpx.AsyncClient, name: str, deadline_s: float = 30) -> User:
    creds = {"email": f"{name}-{ULID().hex[-8:]}@example.com", "password": "password-123"}
    end = time.monotonic() + deadline_s
    while True:
        try:
            answer = await api.post("/v1/auth/register", json=creds)
            if answer.status_code == 201:
                body = answer.json()
                return User(name, body["userId"], body["access_token"])
            problem = f"{answer.status_code} {answer.text[:200]}"
        except httpx.TransportError as exc:
            problem = repr(exc)
        if time.monotonic() > end:
            raise AssertionError(f"could not register {name}: {problem}")
        await asyncio.sleep(0.5)


async def submit(api: httpx.AsyncClient, user: User, text: str, deadline_s: float = 90) -> None:
    """Submit ``text`` until the API takes it (202) or answers from its cache (200)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            answer = await api.post("/v1/verify", json={"text": text}, headers=user.auth)
        except httpx.TransportError as exc:
            problem: str = repr(exc)
        else:
            if answer.status_code == 202:
                user.accepted[answer.json()["taskId"]] = text
                return
            if answer.status_code == 200:
                user.cached.append(text)
                return
            problem = f"{answer.status_code} {answer.text[:200]}"
            if answer.status_code < 500 and answer.status_code != 429:
                raise Refused(f"{user.name}: {problem}")
        user.retried += 1
        if time.monotonic() > end:
            raise AssertionError(f"{user.name}: submission not accepted in time: {problem}")
        await asyncio.sleep(0.3)


class Listener:
    """One user's WebSocket, reconnecting with ``lastEventId`` after every drop."""

    def __init__(self, ws_url: str, user: User) -> None:
        self.ws_url = ws_url
        self.user = user
        self.socket_id: str | None = None  # of the current connection
        self.cursor = "0-0"
        self.events: Counter[str] = Counter()  # taskId -> final events received
        self.first_seen: dict[str, float] = {}
        self.connects = 0
        self.truncated = 0
        self.resyncs = 0
        self.reload_asked_at: list[float] = []  # when truncated/resync frames came
        self._ws: Any = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"ws-{self.user.name}")

    async def drop(self) -> None:
        """Close the socket; the listener reconnects with its cursor."""
        if self._ws is not None:
            await self._ws.close()

    async def stop(self) -> None:
        self._stop.set()
        await self.drop()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                async with websockets.connect(self.ws_url, open_timeout=5) as ws:
                    self._ws = ws
                    await ws.send(
                        json.dumps(
                            {"type": "auth", "token": self.user.token, "lastEventId": self.cursor}
                        )
                    )
                    async for raw in ws:
                        self._on_frame(json.loads(raw))
            except (OSError, TimeoutError, websockets.WebSocketException):
                pass
            finally:
                self._ws = None
            if not self._stop.is_set():
                await asyncio.sleep(0.3)

    def asked_to_reload_since(self, at: float) -> bool:
        """The server said (truncated/resync) at or after ``at`` that events may be gone."""
        return any(t >= at for t in self.reload_asked_at)

    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ready":
            self.connects += 1
            self.socket_id = frame.get("socketId")
            self.ready.set()
        elif kind in ("truncated", "resync"):
            if kind == "truncated":
                self.truncated += 1
            else:
                self.resyncs += 1
            self.reload_asked_at.append(time.time())
        elif kind in FINAL:
            self.events[frame["taskId"]] += 1
            self.first_seen.setdefault(frame["taskId"], time.time())
            self.cursor = frame["eventId"]


@dataclass(frozen=True)
class Run:
    at: float  # epoch seconds
    worker: str  # component name, e.g. "worker-2"
    fingerprint: str


def model_runs(logs: Path) -> list[Run]:
    """Every model run logged by every worker component, oldest first."""
    runs: list[Run] = []
    for path in sorted(logs.glob("worker-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):  # LOG_FORMAT=json (the default)
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                event = _RUN_EVENT.match(str(record.get("event", "")))
                if record.get("logger") == "worker.model" and event:
                    at = datetime.fromisoformat(record["time"].replace("Z", "+00:00")).timestamp()
                    runs.extend(Run(at, path.stem, fp) for fp in event[1].split())
                continue
            match = _RUN_LINE.match(line)  # LOG_FORMAT=text
            if match:
                at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                runs.extend(Run(at, path.stem, fp) for fp in match[2].split())
    return sorted(runs, key=lambda r: r.at)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
