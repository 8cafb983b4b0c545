"""The worker's lease keeper: keep our entries fresh, take over dead workers' entries.

Every ``lease/3`` the lease task renews the idle time of every entry this worker holds
(``refresh_lease.lua``: XCLAIM JUSTID of our own ids, which does not count as a
delivery) and takes over entries idle longer than the lease (XAUTOCLAIM, paged). A
stopping worker hands back what it will not finish (``hand_back.lua``), so the others
take it at their next tick instead of a lease later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from .attempts import Outcomes
from .config import WorkerSettings
from .health import WorkerHealth
from .inflight import InFlight, Taken
from .queue import JobQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class Leases:
    """Owned by ``Worker``; see the module docstring. ``can_start_now`` tells whether an
    entry taken now would start without waiting out a long batch; what is taken over
    goes to ``outcomes``."""

    settings: WorkerSettings
    queue: JobQueue
    in_flight: InFlight
    outcomes: Outcomes
    stopping: asyncio.Event
    can_start_now: Callable[[], bool]
    health: WorkerHealth | None = None

    async def hand_back(self, ids: list[str]) -> None:
        """Give entries we will not finish to the other workers at once (no lease wait)."""
        if not ids:
            return
        for entry_id in ids:
            self.in_flight.unmark(entry_id)  # no more lease renewals
        try:
            handed = await self.queue.hand_back(ids, self.settings.lease_ms)
            log.info("handed %d unfinished entries back to the group", handed)
        except RedisError as exc:
            log.warning("handing entries back failed (%s): they return after a lease", exc)

    async def run(self) -> None:
        interval = self.settings.lease_ms / 3000
        loop = asyncio.get_running_loop()
        while True:
            # Ticks stay lease/3 apart, however long the stale claim waited for a slot.
            next_tick = loop.time() + interval
            try:
                await self._refresh_leases()
                if not self.stopping.is_set():
                    await self._claim_stale(next_tick)
                if self.health is not None:
                    self.health.lease_kept()
            except RedisError as exc:
                log.warning("lease upkeep failed (%s); next try in %.1fs", exc, interval)
            await asyncio.sleep(max(0.0, next_tick - loop.time()))

    async def _refresh_leases(self) -> None:
        ids = self.in_flight.ids()
        if not ids:
            return
        kept = await self.queue.refresh_lease(ids)
        lost = {entry_id for entry_id in set(ids) - kept if entry_id in self.in_flight}
        if lost:
            # Another worker took them over; our result (if any) is still idempotent.
            log.warning("lost the lease on %d entries: %s", len(lost), sorted(lost)[:5])

    async def _claim_stale(self, until: float) -> None:
        lease_ms = self.settings.lease_ms
        # A worker busy with a long batch leaves takeovers to idle workers (below: unless
        # none took them).
        if self.can_start_now() and (taken := self.in_flight.take_now(self.settings.batch_size)):
            await self._claim_into(taken, lease_ms)
            return
        # Busy: one freed slot at a time, until the tick ends or nothing stale is left.
        # Only for entries an idle worker has passed up: every worker ticks at lease/3,
        # so one with a free slot would have claimed an entry by lease * 4/3 (the rest
        # is a margin for late ticks).
        overdue_ms = lease_ms * 3 // 2 + 500
        while freed := await self._slot_for_stale(until, overdue_ms):
            want = freed.count
            if await self._claim_into(freed, overdue_ms) < want:
                return

    async def _slot_for_stale(self, until: float, min_idle_ms: int) -> Taken | None:
        """With every slot busy and a dead worker's entries overdue, wait (until the
        next lease tick) for the next freed slot ahead of the reader: under a backlog
        the reader would otherwise refill every slot at once, and the stale entries
        would wait for the whole backlog instead of about one lease. Idle workers get
        the first chance (``min_idle_ms`` is past their ticks): a busy worker may not
        start the entry at once, an idle one would."""
        if not await self.queue.has_stale(min_idle_ms):
            return None
        try:
            async with asyncio.timeout_at(until):
                return await self.in_flight.take(1, first=True)
        except TimeoutError:
            return None

    async def _claim_into(self, taken: Taken, min_idle_ms: int) -> int:
        """XAUTOCLAIM up to ``taken.count`` entries idle over ``min_idle_ms`` into the
        slots ``taken``; return how many were taken over."""
        try:
            claimed = await self.queue.claim_stale(min_idle_ms, taken.count)
        except BaseException:
            taken.release()
            raise
        # Entries claimed while stopping stay pending (owned by us) for another worker.
        stopping = self.stopping.is_set()
        fresh = [] if stopping else [e for e in claimed if e.id not in self.in_flight]
        held = taken.hold(fresh)
        if held:
            log.info("took over %d stale entries", len(held))
            await self.outcomes.admit_reclaimed(held)
        return len(held)
