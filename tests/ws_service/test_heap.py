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


class Sockets:
    def __init__(self) -> None:
        self.open = 0
        self.closed = 0

    def settler(self) -> HeapSettler:
        return HeapSettler(lambda: self.open, lambda: self.closed)


def test_freezes_as_sockets_grow_and_once_they_settle(unfrozen: None) -> None:
    sockets = Sockets()
    settler = sockets.settler()
    assert settler.settle() is None  # nothing open, nothing to do
    sockets.open = 50
    assert settler.settle() is None  # too few new sockets to be worth it, yet
    held = [{"socket": i} for i in range(1000)]  # what the open sockets hold
    sockets.open = 1000
    assert settler.settle() == "froze"
    assert gc.get_freeze_count() >= len(held)
    sockets.open = 1050
    assert settler.settle() is None  # grew by less than a tenth
    assert settler.settle() == "froze" and settler.frozen_at == 1050  # and holds still
    assert settler.settle() is None
    sockets.open = 1200
    assert settler.settle() == "froze" and settler.frozen_at == 1200


def test_unfreezes_once_half_as_many_as_were_frozen_have_closed(unfrozen: None) -> None:
    sockets = Sockets()
    settler = sockets.settler()
    sockets.open = 1000
    assert settler.settle() == "froze"
    # churn at a steady count: others take the closed sockets' places
    sockets.closed = 400
    assert settler.settle() is None
    sockets.closed = 501
    assert settler.settle() == "unfroze"
    assert gc.get_freeze_count() == 0
    assert settler.settle() == "froze"  # the sockets open now, frozen afresh
    assert settler.frozen_at == 1000
    # fewer sockets: the same rule
    sockets.open, sockets.closed = 400, 1101
    assert settler.settle() == "unfroze"
