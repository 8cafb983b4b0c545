"""Flow control for the worker loop: the in-flight slot pool and dynamic batching."""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


class Slots:
    """A pool of in-flight entry slots that many can be taken from at once.

    Unlike a semaphore it hands out "up to N" in one step (one XREADGROUP COUNT), and
    ``close()`` wakes every waiter so a stopping worker never hangs on a full pool.
    A ``first`` taker (the lease task, for a dead worker's entries) is served before
    the others: while one waits, plain takers leave freed slots to it.
    """

    def __init__(self, total: int) -> None:
        self.free = total
        self._freed = asyncio.Event()
        self._closed = False
        self._first_waiting = 0

    async def take(self, most: int, *, first: bool = False) -> int:
        """Wait for a free slot, then take up to ``most``; 0 once closed."""
        if first:
            self._first_waiting += 1
        try:
            while not self._closed and (self.free == 0 or (not first and self._first_waiting)):
                self._freed.clear()
                await self._freed.wait()
        finally:
            if first:
                self._first_waiting -= 1
                self._freed.set()  # plain takers may go again (also after a timeout)
        return 0 if self._closed else self.take_now(most)

    def take_now(self, most: int) -> int:
        taken = min(most, self.free)
        self.free -= taken
        return taken

    def release(self, count: int = 1) -> None:
        if count:
            self.free += count
            self._freed.set()

    def close(self) -> None:
        self._closed = True
        self._freed.set()


async def next_batch(queue: asyncio.Queue[T | None], size: int, wait_s: float) -> list[T] | None:
    """Up to ``size`` items, waiting at most ``wait_s`` after the first; None at the end.

    ``None`` in the queue marks the end; it is put back so later calls also see it.
    """
    first = await queue.get()
    if first is None:
        queue.put_nowait(None)
        return None
    batch = [first]
    deadline = asyncio.get_running_loop().time() + wait_s
    while len(batch) < size:
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            try:
                async with asyncio.timeout_at(deadline):
                    item = await queue.get()
            except TimeoutError:
                break
        if item is None:
            queue.put_nowait(None)
            break
        batch.append(item)
    return batch


async def top_up(
    queue: asyncio.Queue[T | None], batch: list[T], size: int, until: asyncio.Event
) -> bool:
    """Add queued items to ``batch`` until it holds ``size`` or ``until`` is set.

    False when the end-of-queue marker was reached (it is consumed; the caller puts it
    back once it has dealt with ``batch``).
    """
    while len(batch) < size and not until.is_set():
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            getting = asyncio.ensure_future(queue.get())
            waiting = asyncio.ensure_future(until.wait())
            await asyncio.wait({getting, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if not getting.done():
                getting.cancel()  # no item is lost: a cancelled get() takes nothing
                continue
            item = getting.result()
        if item is None:
            return False
        batch.append(item)
    return True


def drain(queue: asyncio.Queue[T | None]) -> list[T]:
    """Everything queued right now (an end marker in it is dropped)."""
    items: list[T] = []
    while True:
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            return items
        if item is not None:
            items.append(item)
