"""Flow control for the worker loop: dynamic batching (the slot pool is ``inflight.py``)."""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


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
