"""The worker's in-flight entries: a bounded pool of slots and the entries holding them.

Every entry the worker works on holds one slot, from the read (or takeover) that
brought it until its outcome is settled; a retry waiting out its backoff keeps it.
``InFlight`` hands slots out in blocks (``Taken``: one XREADGROUP COUNT, one XAUTOCLAIM
limit); each slot of a block becomes the ``Hold`` of one entry or goes back to the
pool. A hold frees its slot once: releasing it again does nothing.

Apart from the slots, ``InFlight`` keeps the entries whose leases the lease task renews
(``marked``): an entry stops being renewed when it is finished or handed on, which can
be before its hold is released (an ack is on its way) or long after (a retry waits).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Protocol, TypeVar


class Entry(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=Entry)


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


class Hold:
    """One slot, held for one entry. ``release()`` frees the slot the first time only."""

    __slots__ = ("_slots", "entry_id")

    def __init__(self, slots: Slots, entry_id: str) -> None:
        self._slots: Slots | None = slots
        self.entry_id = entry_id

    @property
    def released(self) -> bool:
        return self._slots is None

    def release(self) -> None:
        slots, self._slots = self._slots, None
        if slots is not None:
            slots.release()

    def __repr__(self) -> str:
        state = "released" if self.released else "held"
        return f"Hold({self.entry_id!r}, {state})"


class Taken:
    """Slots taken in one step. Each becomes an entry's ``Hold`` (``hold``) or goes back
    to the pool (``release``, or leaving a ``with`` block): never both, never twice."""

    __slots__ = ("_slots", "count")

    def __init__(self, slots: Slots, count: int) -> None:
        self._slots = slots
        self.count = count  # not yet handed out or given back

    def __bool__(self) -> bool:
        return self.count > 0

    def hold(self, entries: Sequence[E]) -> list[tuple[E, Hold]]:
        """Each of ``entries`` (at most ``count``) with its hold; the other slots go back
        to the pool now."""
        assert len(entries) <= self.count, "more entries than slots taken"
        self.count -= len(entries)
        self.release()
        return [(entry, Hold(self._slots, entry.id)) for entry in entries]

    def release(self) -> None:
        """Give back every slot not handed out yet."""
        count, self.count = self.count, 0
        self._slots.release(count)

    def __enter__(self) -> Taken:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class InFlight:
    """The slots of one worker (at most ``total`` entries at a time) and the entries
    whose leases it renews; see the module docstring."""

    def __init__(self, total: int) -> None:
        self._slots = Slots(total)
        self._marked: set[str] = set()

    # -- slots -------------------------------------------------------------------------

    async def take(self, most: int, *, first: bool = False) -> Taken:
        """Wait for a free slot, then take up to ``most`` (none once closed). A ``first``
        taker is served before the others (see ``Slots``)."""
        return Taken(self._slots, await self._slots.take(most, first=first))

    def take_now(self, most: int) -> Taken:
        """Up to ``most`` free slots, without waiting (maybe none)."""
        return Taken(self._slots, self._slots.take_now(most))

    @property
    def free(self) -> int:
        """Slots neither held nor taken."""
        return self._slots.free

    def close(self) -> None:
        """Stopping: every waiting and later ``take`` gets no slots."""
        self._slots.close()

    def done(self, hold: Hold) -> None:
        """The entry is settled: no more lease renewals, and its slot is free."""
        self._marked.discard(hold.entry_id)
        hold.release()

    # -- entries whose leases are renewed ----------------------------------------------

    def mark(self, entry_ids: Iterable[str]) -> None:
        """Ours from now on: renew their leases."""
        self._marked.update(entry_ids)

    def unmark(self, entry_id: str) -> None:
        """Finished or handed on: stop renewing its lease (its slot may still be held)."""
        self._marked.discard(entry_id)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._marked

    def __len__(self) -> int:
        return len(self._marked)

    def ids(self) -> list[str]:
        return list(self._marked)
