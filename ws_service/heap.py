"""Keeping the cycle collector's full passes short while thousands of sockets are held.

Every socket is a few hundred tracked objects that live as long as it does. Python's
full (generation-2) collection walks all of them, and it runs each time the long-lived
heap grew by a quarter: at 10,000 sockets a pass stalled the process for 0.5-1 s, every
push in flight with it (``satyamark_gc_pause_seconds``). Frozen objects are not walked,
so once the socket count has grown by a tenth, or has grown and then held still for a
check, what the open sockets hold is frozen (after a young collection, so no fresh
garbage is frozen with it). Cycles that closed sockets leave
among frozen objects are not collected; once as many sockets as half the frozen ones
have closed since (fewer sockets, or the same number with others in their place), the
heap is unfrozen for the collector to reclaim them: one long pass after heavy churn
instead of one per growth step.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

GROWTH = 1.1  # freeze again once the sockets grew by a tenth
MIN_NEW = 100  # … and by at least this many


class HeapSettler:
    def __init__(self, sockets: Callable[[], int], closed: Callable[[], int]) -> None:
        self._sockets = sockets  # open now
        self._closed = closed  # closed since the process started
        self.frozen_at = 0  # sockets open at the last freeze
        self._closed_at = 0  # sockets closed by the last freeze
        self._seen = 0  # sockets open at the last check

    def settle(self) -> str | None:
        """Freeze or unfreeze as the socket count moved; what was done, if anything."""
        open_now, seen = self._sockets(), self._seen
        self._seen = open_now
        grew = open_now >= max(self.frozen_at * GROWTH, self.frozen_at + MIN_NEW)
        settled = open_now > self.frozen_at and open_now == seen  # the tail of a growth
        closed = self._closed()
        if self.frozen_at and closed - self._closed_at > self.frozen_at / 2:
            gc.unfreeze()
            self.frozen_at, self._closed_at = 0, closed
            return "unfroze"
        if grew or settled:
            gc.collect(1)
            gc.freeze()
            self.frozen_at, self._closed_at = open_now, closed
            return "froze"
        return None

    async def run(self, every_s: float = 2.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            self.settle()
