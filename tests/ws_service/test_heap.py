"""The heap settler freezes what open sockets hold and lets it go after heavy churn."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ws_service.heap import HeapSettler


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freezes_on_growth_and_unfreezes_after_half_are_gone(unfrozen: None) -> None:
    sockets = [0]
    settler = HeapSettler(lambda: sockets[0])
    assert settler.settle() is None  # nothing open, nothing to do
    sockets[0] = 50
    assert settler.settle() is None  # too few new sockets to be worth it
    held = [{"socket": i} for i in range(1000)]  # what the open sockets hold
    sockets[0] = 1000
    assert settler.settle() == "froze"
    assert gc.get_freeze_count() >= len(held)
    sockets[0] = 1050
    assert settler.settle() is None  # grew by less than a tenth
    sockets[0] = 1200
    assert settler.settle() == "froze" and settler.frozen_at == 1200
    sockets[0] = 700
    assert settler.settle() is None  # fewer than half are gone
    sockets[0] = 500
    assert settler.settle() == "unfroze"
    assert gc.get_freeze_count() == 0
    assert settler.frozen_at == 500
