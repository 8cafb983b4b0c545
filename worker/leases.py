"""The lease half of ``Worker``: keep our entries fresh, take over dead workers' entries.

Every ``lease/3`` the lease task renews the idle time of every entry this worker holds
(``refresh_lease.lua``: XCLAIM JUSTID of our own ids, which does not count as a
delivery) and takes over entries idle longer than the lease (XAUTOCLAIM, paged). A
stopping worker hands back what it will not finish (``hand_back.lua``), so the others
take it at their next tick instead of a lease later.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from .attempts import Outcomes

log = logging.getLogger(__name__)


class Leases(Outcomes):
    """A mixin of ``Worker`` (which owns the state); see the module docstring."""

    def _can_start_now(self) -> bool:
        """Whether an entry taken now would start without waiting out a long batch."""
        raise NotImplementedError

    async def _hand_back(self, ids: list[str]) -> None:
        """Give entries we will not finish to the other workers at once (no lease wait)."""
        if not ids:
            return
        for entry_id in ids:
            self._in_flight.discard(entry_id)  # no more lease renewals
        try:
            handed = await self.queue.hand_back(ids, self.settings.lease_ms)
            log.info("handed %d unfinished entries back to the group", handed)
        except RedisError as exc:
            log.warning("handing entries back failed (%s): they return after a lease", exc)

    async def _lease_loop(self) -> None:
        interval = self.settings.lease_ms / 3000
        loop = asyncio.get_running_loop()
        while True:
            # Ticks stay lease/3 apart, however long the stale claim waited for a slot.
            next_tick = loop.time() + interval
            try:
                await self._refresh_leases()
                if not self._stopping.is_set():
                    await self._claim_stale(next_tick)
            except RedisError as exc:
                log.warning("lease upkeep failed (%s); next try in %.1fs", exc, interval)
            await asyncio.sleep(max(0.0, next_tick - loop.time()))

    async def _refresh_leases(self) -> None:
        ids = list(self._in_flight)
        if not ids:
            return
        kept = await self.queue.refresh_lease(ids)
        lost = (set(ids) - kept) & self._in_flight
        if lost:
            # Another worker took them over; our result (if any) is still idempotent.
            log.warning("lost the lease on %d entries: %s", len(lost), sorted(lost)[:5])

    async def _claim_stale(self, until: float) -> None:
        lease_ms = self.settings.lease_ms
        # A worker busy with a long batch leaves takeovers to idle workers (below: unless
        # none took them).
        want = self._slots.take_now(self.settings.batch_size) if self._can_start_now() else 0
        if want:
            await self._claim_into(want, lease_ms)
            return
        # Busy: one freed slot at a time, until the tick ends or nothing stale is left.
        # Only for entries an idle worker has passed up: every worker ticks at lease/3,
        # so one with a free slot would have claimed an entry by lease * 4/3 (the rest
        # is a margin for late ticks).
        overdue_ms = lease_ms * 3 // 2 + 500
        while want := await self._slot_for_stale(until, overdue_ms):
            if await self._claim_into(want, overdue_ms) < want:
                return

    async def _slot_for_stale(self, until: float, min_idle_ms: int) -> int:
        """With every slot busy and a dead worker's entries overdue, wait (until the
        next lease tick) for the next freed slot ahead of the reader: under a backlog
        the reader would otherwise refill every slot at once, and the stale entries
        would wait for the whole backlog instead of about one lease. Idle workers get
        the first chance (``min_idle_ms`` is past their ticks): a busy worker may not
        start the entry at once, an idle one would."""
        if not await self.queue.has_stale(min_idle_ms):
            return 0
        try:
            async with asyncio.timeout_at(until):
                return await self._slots.take(1, first=True)
        except TimeoutError:
            return 0

    async def _claim_into(self, want: int, min_idle_ms: int) -> int:
        """XAUTOCLAIM up to ``want`` entries idle over ``min_idle_ms`` into ``want``
        slots already taken; return how many were taken over."""
        try:
            claimed = await self.queue.claim_stale(min_idle_ms, want)
        except BaseException:
            self._slots.release(want)
            raise
        # Entries claimed while stopping stay pending (owned by us) for another worker.
        stopping = self._stopping.is_set()
        fresh = [] if stopping else [e for e in claimed if e.id not in self._in_flight]
        self._slots.release(want - len(fresh))
        if fresh:
            log.info("took over %d stale entries", len(fresh))
            await self._admit_reclaimed(fresh)
        return len(fresh)
