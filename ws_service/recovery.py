"""Keep live sockets reachable and whole through Redis outages and data loss.

Publishers find our sockets through ``ws:user:<id>`` and reach us over pub/sub, both in
Redis. Three things can silently cut a socket off, and each is repaired here:

- the pub/sub connection drops (Redis restarts, a network blip): events published
  meanwhile never reach us. On re-subscribing, every socket gets what it missed from
  its user's event log.
- Redis loses its data (detected within ``epoch_check_interval_s`` by
  ``ws_service.epoch``): registrations and event logs are gone. Every registration is
  restored at once, every socket is told ``{"type": "resync"}`` (reload tasks from the
  API) and gets whatever the new log already holds.
- a registration vanishes on its own (its TTL ran out while Redis was unreachable, a
  stray DEL): the periodic refresh, which rewrites every registration, sees the field
  it had to add and catches that user's sockets up from the log.

Events delivered this way had reached no socket of theirs live: they are counted and
logged. A socket never gets an event twice (``Connection.merge_missed``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass, field

from redis.exceptions import RedisError

from shared.notify import EventLog

from . import messages
from .connection import Connection
from .epoch import RedisEpoch
from .hub import Hub

log = logging.getLogger(__name__)

# Log reads in flight at once during a catch-up (the Redis pool holds 64 connections).
_READ_CONCURRENCY = 32


@dataclass
class RecoveryStats:
    recoveries: int = 0
    # Events that reached no socket of their user live and were delivered from the log.
    missed_events: int = 0
    resyncs: int = 0
    truncations: int = 0


@dataclass
class _Due:
    """The repair owed: catch up every user (else only those whose registrations
    vanished), and tell the sockets to resync; why, for the log."""

    everyone: bool = False
    resync: bool = False
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str, *, resync: bool = False) -> None:
        self.everyone = True
        self.resync = self.resync or resync
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass(slots=True, eq=False)
class Recovery:
    hub: Hub
    events: EventLog
    epoch: RedisEpoch
    _: KW_ONLY
    refresh_interval_s: float
    epoch_check_interval_s: float
    replay_max_events: int
    stats: RecoveryStats = field(init=False, default_factory=RecoveryStats)
    _resubscribed: bool = field(init=False, repr=False, default=False)
    _wake: asyncio.Event = field(init=False, repr=False, default_factory=asyncio.Event)

    def reconnected(self) -> None:
        """The pub/sub listener subscribed again after losing its connection: events
        published meanwhile never reached us. Called before any later event is
        dispatched, so every socket starts holding live events back at the gap."""
        self.hub.begin_catch_up()
        self._resubscribed = True
        self._wake.set()

    async def _sleep(self) -> None:
        """Until the next check is due or the listener reconnected, whichever is first."""
        # call_later rather than asyncio.timeout: on 3.11 a cancel that lands as the
        # timeout fires is turned into TimeoutError and lost, and shutdown hangs.
        timer = asyncio.get_running_loop().call_later(self.epoch_check_interval_s, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()
            self._wake.clear()

    async def run(self) -> None:
        """Check the epoch every ``epoch_check_interval_s`` and repair at once when the
        listener reconnected or Redis lost its data; refresh registrations regularly.
        A repair that fails (Redis still away) is retried at the next check."""
        due = _Due()
        next_refresh = time.monotonic() + self.refresh_interval_s
        me = asyncio.current_task()
        while True:
            # redis-py can swallow a CancelledError that lands mid-command; without this
            # check the cancelled loop would go on and the shutdown would hang.
            if me is not None and me.cancelling():
                raise asyncio.CancelledError
            await self._sleep()
            if self._resubscribed:
                self._resubscribed = False
                due.add("pub/sub reconnected")
            try:
                if await self.epoch.check():
                    due.add("Redis lost its data", resync=True)
                if due.everyone or time.monotonic() >= next_refresh:
                    reason = " and ".join(due.reasons) or "registrations refreshed"
                    await self.repair(due.everyone, resync=due.resync, reason=reason)
                    due = _Due()
                    next_refresh = time.monotonic() + self.refresh_interval_s
            except RedisError as exc:
                # Sockets hold their live events until a repair succeeds; that one
                # reads every user's log, as we cannot tell what the failure cost.
                due.add("retrying after a failed repair")
                log.warning("cannot check or repair socket registrations yet: %s", exc)

    async def repair(self, everyone: bool, *, resync: bool, reason: str) -> None:
        """Restore every registration, then deliver from the log what sockets missed:
        every user's (``everyone``) or only those whose registrations had vanished.
        Raises RedisError; the sockets then keep holding live events back (a socket
        whose backlog overflows is closed and replays from its lastEventId)."""
        started = time.monotonic()
        # Before the registrations come back, so no live event can overtake the gap.
        self.hub.begin_catch_up()
        vanished = await self.hub.refresh()
        users = self.hub.users() if everyone else sorted(vanished)
        before = self.stats.missed_events
        await self._catch_up(users, resync=resync, reason=reason)
        for user_id in self.hub.users():  # nothing missed: release what they held
            for conn in self.hub.sockets_of(user_id):
                if conn.catching_up:
                    conn.end_catch_up([])
        missed = self.stats.missed_events - before
        if everyone or vanished or missed:
            self.stats.recoveries += 1
            log.warning(
                "%s: restored the registrations of %d sockets (%d users had lost theirs), "
                "delivered %d events from the log that had reached no socket live%s, in %.0f ms",
                reason,
                len(self.hub),
                len(vanished),
                missed,
                f", told {len(self.hub)} sockets to resync" if resync else "",
                (time.monotonic() - started) * 1000,
            )

    async def _catch_up(self, users: Iterable[str], *, resync: bool, reason: str) -> None:
        gate = asyncio.Semaphore(_READ_CONCURRENCY)

        async def one(user_id: str) -> None:
            async with gate:
                await self._catch_up_user(user_id, resync=resync, reason=reason)

        await asyncio.gather(*(one(u) for u in users))

    async def _catch_up_user(self, user_id: str, *, resync: bool, reason: str) -> None:
        # Sockets still being set up replay the log themselves (routes -> replay.greet).
        by_gap: dict[str, list[Connection]] = defaultdict(list)
        for conn in self.hub.sockets_of(user_id):
            if conn.catching_up:
                by_gap[conn.gap_from].append(conn)
        for gap_from, conns in by_gap.items():
            history = await self.events.read(
                user_id, gap_from, self.replay_max_events, since_ms=self.epoch.since_ms
            )
            logged = [(e["eventId"], messages.dumps(e)) for e in history.events]
            for conn in conns:
                if resync:
                    conn.push(messages.resync(reason))
                    self.stats.resyncs += 1
                # From 0-0 the socket saw no event yet: only the log's own cap can cut.
                elif history.truncated and (
                    gap_from != "0-0" or len(logged) >= self.replay_max_events
                ):
                    conn.push(messages.truncated(logged[0][0] if logged else None))
                    self.stats.truncations += 1
                self.stats.missed_events += conn.end_catch_up(logged)
