"""Acknowledging finished entries in groups.

Callbacks finish one by one, but each ack (XACK + XDEL + forget attempts, one MULTI) is
a Redis round trip: with one per job it was a sizeable share of a worker's time in
bench/queue.py (figures: bench/README.md).
Like a database group commit, acks that arrive while a flush is running wait for the
next flush and go together, so under load one MULTI covers many entries and an idle
worker still acks at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Acker(Generic[T]):
    def __init__(self, ack_many: Callable[..., Awaitable[int]]) -> None:
        self._ack_many = ack_many
        self._waiting: list[T] = []
        self._next: asyncio.Future[None] | None = None
        self._flushing = asyncio.Lock()

    async def ack(self, entry: T) -> None:
        """Return once ``entry`` is acknowledged; raise what the flush raised."""
        self._waiting.append(entry)
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        mine = self._next
        async with self._flushing:
            if not mine.done():
                ids, self._waiting, self._next = self._waiting, [], None
                try:
                    await self._ack_many(*ids)
                except Exception as exc:  # every waiter of this flush gets it
                    mine.set_exception(exc)
                else:
                    mine.set_result(None)
        await mine
