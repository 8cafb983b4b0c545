"""``satyamark kb load-docs FILE|DIR [...]``: load documents for open-world evidence.

Each FILE (JSONL, .txt, .md, .html) or DIR (its document files, recursively) is read,
each document cut into passages and written to ``kb_documents`` / ``kb_passages``. Per
file: ``FILE: N inserted, N updated, N unchanged, N passages written, N rejected``; each
rejected record goes to stderr as ``FILE:LINE: message``. Idempotent: an unchanged file
changes nothing. Exit status 1 when no valid document was read at all, or a FILE named on
the command line could not be read (a file found in a DIR that cannot be read is reported
and skipped), else 0.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from tqdm import tqdm

from shared.knowledge.documents import Document, document_files, read_documents
from shared.knowledge.passages_store import DocumentLoadStats, upsert_documents
from shared.knowledge.records import KbFileError, RecordError


@dataclass
class DocumentsReport:
    path: Path
    stats: DocumentLoadStats = field(default_factory=DocumentLoadStats)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    valid: int = 0

    def summary(self) -> str:
        s = self.stats
        return (
            f"{self.path}: {s.inserted} inserted, {s.updated} updated, {s.unchanged} unchanged,"
            f" {s.passages} passages written, {len(self.rejected)} rejected"
        )


def read_file(path: Path, seen: dict[str, str]) -> tuple[list[Document], list[tuple[int, str]]]:
    """The valid documents of ``path`` and the rejected ones as (position, message).

    ``seen`` maps URLs to where they were first met in this run: a URL given twice would
    otherwise flip between its two texts at every load.
    """
    valid: list[Document] = []
    rejected: list[tuple[int, str]] = []
    for where, result in read_documents(path):
        if isinstance(result, RecordError):
            rejected.append((where, result.message))
        elif (first := seen.get(result.url)) is not None:
            rejected.append((where, f"same url as {first}; that one is kept"))
        else:
            seen[result.url] = f"{path}:{where}"
            valid.append(result)
    return valid, rejected


async def load_documents_file(
    conn: asyncpg.Connection, path: Path, seen: dict[str, str], *, progress: bool = False
) -> DocumentsReport:
    """Read one document file and write its documents (raises ``OSError`` or
    ``KbFileError`` when the file as a whole cannot be read)."""
    report = DocumentsReport(path)
    documents, report.rejected = read_file(path, seen)
    report.valid = len(documents)
    with tqdm(
        total=len(documents),
        desc=path.name,
        unit="doc",
        file=sys.stderr,
        disable=not progress,
        leave=False,
    ) as bar:
        report.stats = await upsert_documents(conn, documents, on_batch=bar.update)
    return report


async def load_documents(conn: asyncpg.Connection, paths: list[Path]) -> int:
    """Load every FILE or DIR of ``paths``, printing a report per file; the exit status."""
    failed = False
    valid = 0
    seen: dict[str, str] = {}
    for given in paths:
        files = document_files(given)
        if not files:
            print(f"{given}: no document files (.jsonl, .txt, .md, .html)", file=sys.stderr)
        for path in files:
            try:
                report = await load_documents_file(conn, path, seen, progress=sys.stderr.isatty())
            except (OSError, KbFileError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                print(f"{path}: cannot read: {reason}", file=sys.stderr)
                failed = failed or path == given
                continue
            for where, message in report.rejected:
                print(f"{path}:{where}: {message}", file=sys.stderr)
            print(report.summary(), flush=True)
            valid += report.valid
    if valid == 0:
        print("no valid document read", file=sys.stderr)
    return 1 if failed or valid == 0 else 0


def add_load_docs_parser(
    kb_sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """The ``load-docs`` subparser of ``satyamark kb`` (kb_cli sets what it runs)."""
    parser = kb_sub.add_parser(
        "load-docs",
        help="load documents (JSONL, .txt, .md, .html; files or folders) as evidence passages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    return parser
