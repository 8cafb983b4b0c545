"""Keeping the cycle collector's full passes short while thousands of sockets are held.

Every socket is a few hundred tracked objects that live as long as it does. Python's
full (generation-2) collection walks all of them, and it runs each time the long-lived
heap grew by a quarter: at 10,000 sockets a pass stalled the process for 0.5-1 s, every
push in flight with it (``satyamark_gc_pause_seconds``). Frozen objects are not walked,
so once the socket count has grown, what the open sockets hold is frozen (after a young
collection, so no fresh garbage is frozen with it). Cycles that closed sockets leave
among frozen objects are not collected; once half the frozen sockets are gone the heap is
unfrozen for the collector to reclaim them, one long pass after heavy churn instead of
one per growth step.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

GROWTH = 1.1  # freeze again once the sockets grew by a tenth
MIN_NEW = 100  # … and by at least this many


class HeapSettler:
    def __init__(self, sockets: Callable[[], int]) -> None:
        self._sockets = sockets
        self.frozen_at = 0  # sockets open at the last freeze

    def settle(self) -> str | None:
        """Freeze or unfreeze as the socket count moved; what was done, if anything."""
        open_now = self._sockets()
        if open_now >= max(self.frozen_at * GROWTH, self.frozen_at + MIN_NEW):
            gc.collect(1)
            gc.freeze()
            self.frozen_at = open_now
            return "froze"
        if self.frozen_at and open_now < self.frozen_at / 2:
            gc.unfreeze()
            self.frozen_at = open_now
            return "unfroze"
        return None

    async def run(self, every_s: float = 2.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            self.settle()
