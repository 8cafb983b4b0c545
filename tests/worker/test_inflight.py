"""The in-flight slot pool and its holds, without Redis."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from worker.inflight import InFlight


@dataclass(frozen=True)
class Entry:
    id: str


async def test_a_hold_frees_its_slot_once() -> None:
    in_flight = InFlight(3)
    taken = await in_flight.take(2)
    [(entry, hold)] = taken.hold([Entry("1-0")])
    assert entry == Entry("1-0") and hold.entry_id == "1-0"
    assert in_flight.free == 2  # the slot not needed went back at once
    hold.release()
    hold.release()
    in_flight.done(hold)
    assert hold.released
    assert in_flight.free == 3


async def test_done_stops_renewing_and_frees_the_slot_once() -> None:
    in_flight = InFlight(2)
    held = in_flight.take_now(2).hold([Entry("1-0"), Entry("2-0")])
    in_flight.mark(entry.id for entry, _ in held)
    assert len(in_flight) == 2 and "1-0" in in_flight
    (_, first), (_, second) = held
    in_flight.done(first)
    in_flight.done(first)
    assert in_flight.ids() == ["2-0"]
    assert in_flight.free == 1
    in_flight.unmark("2-0")  # handed on: no renewals, slot still held
    assert len(in_flight) == 0 and in_flight.free == 1
    second.release()
    assert in_flight.free == 2


async def test_taken_slots_go_back_once() -> None:
    in_flight = InFlight(4)
    with in_flight.take_now(3) as taken:
        assert taken.count == 3 and in_flight.free == 1
        taken.release()
        assert not taken
    assert in_flight.free == 4  # leaving the block gave nothing back twice
    with in_flight.take_now(3) as taken:
        held = taken.hold([Entry("1-0")])
        assert in_flight.free == 3
    assert in_flight.free == 3  # the hold keeps its slot after the block
    held[0][1].release()
    assert in_flight.free == 4


async def test_a_full_pool_waits_for_a_freed_slot_and_close_wakes_waiters() -> None:
    in_flight = InFlight(1)
    [(_, hold)] = (await in_flight.take(1)).hold([Entry("1-0")])
    waiting = asyncio.create_task(in_flight.take(5))
    await asyncio.sleep(0)
    assert not waiting.done()
    hold.release()
    assert (await waiting).count == 1
    blocked = asyncio.create_task(in_flight.take(1))
    await asyncio.sleep(0)
    in_flight.close()
    assert not await blocked
    hold.release()  # released already: the pool does not grow
    assert in_flight.free == 0


async def test_a_first_taker_gets_the_next_freed_slot() -> None:
    in_flight = InFlight(1)
    [(_, hold)] = in_flight.take_now(1).hold([Entry("1-0")])
    plain = asyncio.create_task(in_flight.take(1))
    first = asyncio.create_task(in_flight.take(1, first=True))
    await asyncio.sleep(0)
    hold.release()
    assert (await first).count == 1
    await asyncio.sleep(0)
    assert not plain.done()
    in_flight.close()
    assert not await plain
