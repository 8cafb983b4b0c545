"""What the tests of reading knowledge-base files share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest


def assert_unreadable(
    read: Callable[[Path], Iterable[object]],
    path: Path,
    content: bytes | None,
    error: type[Exception],
    match: str | None = None,
) -> None:
    """With ``content`` at ``path`` (None: no file there), reading it all raises ``error``."""
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=match):
        list(read(path))
