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
from pathlib import Path

import asyncpg

from shared.knowledge.documents import Document, document_files, read_documents
from shared.knowledge.passages_store import DocumentLoadStats, upsert_documents

from .commands import add_command
from .kb_files import LoadReport, report_file, split_valid, write_items


class DocumentsReport(LoadReport[DocumentLoadStats]):
    def counts(self) -> list[str]:
        return [*super().counts(), f"{self.stats.passages} passages written"]


def read_file(path: Path, seen: dict[str, str]) -> tuple[list[Document], list[tuple[int, str]]]:
    """The valid documents of ``path`` and the rejected ones as (position, message).

    ``seen`` maps URLs to where they were first met in this run: a URL given twice would
    otherwise flip between its two texts at every load.
    """
    return split_valid(path, read_documents(path), lambda doc: doc.url, "url", seen)


async def load_documents_file(
    conn: asyncpg.Connection, path: Path, seen: dict[str, str], *, progress: bool = False
) -> LoadReport[DocumentLoadStats]:
    """Read one document file and write its documents (raises ``OSError`` or
    ``KbFileError`` when the file as a whole cannot be read)."""
    documents, rejected = read_file(path, seen)
    report = DocumentsReport(path, DocumentLoadStats(), rejected)
    return await write_items(conn, report, documents, upsert_documents, "doc", progress)


async def load_documents(conn: asyncpg.Connection, paths: list[Path]) -> int:
    """Load every FILE or DIR of ``paths``, printing a report per file; the exit status."""
    failed = False
    valid = 0
    seen: dict[str, str] = {}
    progress = sys.stderr.isatty()
    for given in paths:
        files = document_files(given)
        if not files:
            print(f"{given}: no document files (.jsonl, .txt, .md, .html)", file=sys.stderr)
        for path in files:
            load = load_documents_file(conn, path, seen, progress=progress)
            report = await report_file(path, load)
            if report is None:
                failed = failed or path == given
            else:
                valid += report.valid
    if valid == 0:
        print("no valid document read", file=sys.stderr)
    return 1 if failed or valid == 0 else 0


def add_load_docs_parser(
    kb_sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """The ``load-docs`` subparser of ``satyamark kb`` (kb_cli sets what it runs)."""
    parser = add_command(
        kb_sub,
        "load-docs",
        "load documents (JSONL, .txt, .md, .html; files or folders) as evidence passages",
        __doc__,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    return parser
