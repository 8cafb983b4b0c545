import asyncio

import pytest

from worker.acker import Acker


async def test_concurrent_acks_share_flushes_and_all_complete() -> None:
    flushes: list[tuple[str, ...]] = []

    async def ack_many(*ids: str) -> int:
        flushes.append(ids)
        await asyncio.sleep(0.01)  # a round trip
        return len(ids)

    acker: Acker[str] = Acker(ack_many)
    await asyncio.gather(*(acker.ack(f"1-{i}") for i in range(50)))
    acked = [i for flush in flushes for i in flush]
    assert sorted(acked) == sorted(f"1-{i}" for i in range(50))  # each exactly once
    assert len(flushes) <= 3  # the first alone, then the rest together


async def test_a_lone_ack_is_flushed_at_once() -> None:
    calls: list[tuple[str, ...]] = []

    async def ack_many(*ids: str) -> int:
        calls.append(ids)
        return len(ids)

    await asyncio.wait_for(Acker[str](ack_many).ack("1-1"), 1)
    assert calls == [("1-1",)]


async def test_a_failed_flush_fails_every_waiter_of_that_flush() -> None:
    async def ack_many(*ids: str) -> int:
        await asyncio.sleep(0.01)
        raise ConnectionError("redis down")

    acker: Acker[str] = Acker(ack_many)
    results = await asyncio.gather(*(acker.ack(f"1-{i}") for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    with pytest.raises(ConnectionError):
        await acker.ack("1-9")
