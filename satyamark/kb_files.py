"""What ``satyamark kb load`` and ``kb load-docs`` share: reading a file's items (the
first of each key kept, across the files of one run), writing them with a progress bar,
and the per-file report."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import asyncpg
from tqdm import tqdm

from shared.knowledge import KbFileError, RecordError


class Counts(Protocol):
    @property
    def inserted(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def unchanged(self) -> int: ...


T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)
S = TypeVar("S", bound=Counts)
S_co = TypeVar("S_co", bound=Counts, covariant=True)


class Upsert(Protocol[T_contra, S_co]):
    """``upsert_records`` / ``upsert_documents``."""

    def __call__(
        self,
        conn: asyncpg.Connection,
        items: Iterable[T_contra],
        /,
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> Awaitable[S_co]: ...


@dataclass
class LoadReport(Generic[S]):
    """What loading one file did."""

    path: Path
    stats: S
    rejected: list[tuple[int, str]] = field(default_factory=list)
    valid: int = 0

    def counts(self) -> list[str]:
        s = self.stats
        return [f"{s.inserted} inserted", f"{s.updated} updated", f"{s.unchanged} unchanged"]

    def summary(self) -> str:
        return f"{self.path}: " + ", ".join([*self.counts(), f"{len(self.rejected)} rejected"])


def split_valid(
    path: Path,
    results: Iterable[tuple[int, T | RecordError]],
    key: Callable[[T], str],
    same: str,
    seen: dict[str, str],
) -> tuple[list[T], list[tuple[int, str]]]:
    """The valid items of ``results`` (read from ``path``) and the rejected ones as
    (position, message).

    ``seen`` maps keys to where they were first met in this run: an item given twice
    would otherwise flip between its two versions at every load (``same`` names the key
    in the message).
    """
    valid: list[T] = []
    rejected: list[tuple[int, str]] = []
    for where, result in results:
        if isinstance(result, RecordError):
            rejected.append((where, result.message))
        elif (first := seen.get(key(result))) is not None:
            rejected.append((where, f"same {same} as {first}; that one is kept"))
        else:
            seen[key(result)] = f"{path}:{where}"
            valid.append(result)
    return valid, rejected


async def write_items(
    conn: asyncpg.Connection,
    report: LoadReport[S],
    items: list[T],
    upsert: Upsert[T, S],
    unit: str,
    progress: bool,
) -> LoadReport[S]:
    """Write ``items`` with ``upsert``, counting in ``report``, with a progress bar (of
    ``unit``s) on stderr when ``progress``."""
    report.valid = len(items)
    with tqdm(
        total=len(items),
        desc=report.path.name,
        unit=unit,
        file=sys.stderr,
        disable=not progress,
        leave=False,
    ) as bar:
        report.stats = await upsert(conn, items, on_batch=bar.update)
    return report


async def report_file(path: Path, load: Awaitable[LoadReport[S]]) -> LoadReport[S] | None:
    """Await ``load`` (loading ``path``) and print its report: each rejected item to stderr as
    ``FILE:LINE: message``, then the summary; None (told on stderr) when the file as a
    whole could not be read."""
    try:
        report = await load
    except (OSError, KbFileError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"{path}: cannot read: {reason}", file=sys.stderr)
        return None
    for where, message in report.rejected:
        print(f"{path}:{where}: {message}", file=sys.stderr)
    print(report.summary(), flush=True)
    return report
