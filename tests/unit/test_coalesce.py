"""Coalescer: one batch in flight, the calls that arrive meanwhile go together next."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from shared.coalesce import Coalescer


class Upstream:
    """A batch endpoint that answers when released, doubling each item; 0 is refused."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def send(self, items: list[int]) -> Sequence[int | Exception]:
        self.batches.append(items)
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return [ValueError("zero") if i == 0 else 2 * i for i in items]


async def test_calls_made_while_a_batch_is_out_go_together_in_the_next() -> None:
    upstream = Upstream()
    calls = Coalescer(upstream.send, max_batch=4, name="t")
    first = asyncio.create_task(calls.call(1))
    await asyncio.sleep(0.01)
    assert upstream.batches == [[1]]  # idle: it went out at once, alone
    later = [asyncio.create_task(calls.call(i)) for i in (2, 0, 4)]
    await asyncio.sleep(0.01)
    assert upstream.batches == [[1]]  # one request in flight at a time
    upstream.release.set()
    assert await first == 2
    results = await asyncio.gather(*later, return_exceptions=True)
    assert upstream.batches == [[1], [2, 0, 4]]
    assert results[0] == 4 and results[2] == 8
    assert isinstance(results[1], ValueError)  # an item's error is its caller's alone


async def test_a_failed_request_fails_each_of_its_calls_and_the_next_batch_still_goes() -> None:
    upstream = Upstream()
    upstream.fail = ConnectionError("down")
    upstream.release.set()
    calls = Coalescer(upstream.send, max_batch=8, name="t")
    failed = await asyncio.gather(calls.call(1), calls.call(2), return_exceptions=True)
    assert all(isinstance(f, ConnectionError) for f in failed)
    upstream.fail = None
    assert await calls.call(3) == 6


async def test_a_cancelled_caller_is_skipped_and_the_others_answered() -> None:
    upstream = Upstream()
    calls = Coalescer(upstream.send, max_batch=8, name="t")
    first = asyncio.create_task(calls.call(1))
    await asyncio.sleep(0.01)
    gone, kept = asyncio.create_task(calls.call(5)), asyncio.create_task(calls.call(6))
    await asyncio.sleep(0.01)
    gone.cancel()
    upstream.release.set()
    assert (await first, await kept) == (2, 12)
    assert upstream.batches == [[1], [6]]  # the cancelled call never went out
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_a_full_batch_goes_out_without_waiting_for_the_one_in_flight() -> None:
    upstream = Upstream()  # hangs until released, as a frozen service would
    calls = Coalescer(upstream.send, max_batch=2, name="t")
    first = asyncio.create_task(calls.call(1))
    await asyncio.sleep(0.01)
    rest = [asyncio.create_task(calls.call(i)) for i in (2, 3, 4, 5, 6)]
    await asyncio.sleep(0.01)
    # two full batches went at once; the odd one waits for a request to return
    assert upstream.batches == [[1], [2, 3], [4, 5]]
    upstream.release.set()
    assert await asyncio.gather(first, *rest) == [2, 4, 6, 8, 10, 12]
    assert upstream.batches == [[1], [2, 3], [4, 5], [6]]
    await calls.aclose()


async def test_a_cancelled_batch_cancels_its_calls_and_the_next_one_still_goes() -> None:
    upstream = Upstream()
    calls = Coalescer(upstream.send, max_batch=8, name="t")
    first = asyncio.create_task(calls.call(1))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(calls.call(2))
    await asyncio.sleep(0.01)
    for batch in list(calls._in_flight):  # as at shutdown
        batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first  # nobody is left waiting on a request that will never answer
    await asyncio.sleep(0.01)
    assert upstream.batches == [[1], [2]]
    upstream.release.set()
    assert await second == 4
