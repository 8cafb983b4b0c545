"""``satyamark kb``: load fact-check files into the knowledge base, show what it holds.

satyamark kb load FILE|DIR [...]   # our JSONL or schema.org ClaimReview (JSON/JSONL)
satyamark kb load --starter        # the knowledge base shipped with SatyaMark
satyamark kb check [FILE|DIR ...]  # duplicates and contradictions (default: the bundled base)
satyamark kb load-docs FILE|DIR... # documents as evidence passages (see kb_docs_cli.py)
satyamark kb stats                 # claims per verdict and domain, documents, embeddings

Loading is idempotent: an unchanged file changes nothing. Rejected records are printed
to stderr as ``FILE:LINE: message`` (for a JSON document, LINE is the item's position)
and the valid ones are still loaded. Exit status: 0 when every file had valid records,
1 when a file could not be read or had none, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from shared.db import create_database_if_missing, migrate
from shared.knowledge import (
    KB_PATH,
    KbRecord,
    LoadStats,
    knowledge_files,
    read_records,
    upsert_records,
)
from shared.knowledge.passages_store import corpus_counts

from .commands import add_command
from .kb_docs_cli import add_load_docs_parser, load_documents
from .kb_files import LoadReport, report_file, split_valid, write_items
from .local import database_url

FileReport = LoadReport[LoadStats]


def read_file(path: Path, seen: dict[str, str]) -> tuple[list[KbRecord], list[tuple[int, str]]]:
    """The valid records of ``path`` and the rejected ones as (position, message).

    ``seen`` maps claim keys to where they were first met, across the files of one run:
    a claim given twice would otherwise flip between its two versions at every load.
    Raises ``OSError`` or ``KbFileError`` when the file as a whole cannot be read.
    """
    return split_valid(path, read_records(path), lambda record: record.key, "claim", seen)


async def load_file(
    conn: asyncpg.Connection, path: Path, seen: dict[str, str], *, progress: bool = False
) -> FileReport:
    records, rejected = read_file(path, seen)
    report = FileReport(path, LoadStats(), rejected)
    return await write_items(conn, report, records, upsert_records, "claim", progress)


async def connect_migrated(dsn: str) -> asyncpg.Connection:
    """A connection to ``dsn``, its database created and migrated when needed."""
    await create_database_if_missing(dsn)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await migrate(conn)
    except BaseException:
        await conn.close()
        raise
    return conn


@dataclass
class StarterReport:
    """What loading the bundled knowledge base did, over all its files."""

    files: list[FileReport]
    count: int  # claims in the database afterwards

    @property
    def inserted(self) -> int:
        return sum(f.stats.inserted for f in self.files)

    @property
    def rejected(self) -> list[tuple[int, str]]:
        return [r for f in self.files for r in f.rejected]


async def load_starter(dsn: str) -> StarterReport | None:
    """Load the bundled knowledge base (``make run``), every file of ``KB_PATH``; None
    when it is not there."""
    paths = knowledge_files(KB_PATH) if KB_PATH.is_dir() else []
    if not paths:
        return None
    conn = await connect_migrated(dsn)
    seen: dict[str, str] = {}
    try:
        files = [await load_file(conn, path, seen) for path in paths]
        count = await conn.fetchval("SELECT count(*) FROM kb_claims")
    finally:
        await conn.close()
    return StarterReport(files, int(count))


async def _load_all(dsn: str, paths: list[Path]) -> int:
    conn = await connect_migrated(dsn)
    status = 0
    seen: dict[str, str] = {}
    try:
        for path in paths:
            load = load_file(conn, path, seen, progress=sys.stderr.isatty())
            report = await report_file(path, load)
            if report is None:
                status = 1
            elif report.valid == 0:
                print(f"{path}: no valid record", file=sys.stderr)
                status = 1
    finally:
        await conn.close()
    return status


async def _load_docs(dsn: str, paths: list[Path]) -> int:
    conn = await connect_migrated(dsn)
    try:
        return await load_documents(conn, paths)
    finally:
        await conn.close()


async def _stats(dsn: str) -> int:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        verdicts = dict(
            await conn.fetch("SELECT verdict, count(*) FROM kb_claims GROUP BY verdict")
        )
        domains = await conn.fetch(
            "SELECT coalesce(domain, '(none)'), count(*) FROM kb_claims"
            " GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        models = await conn.fetch(
            "SELECT model, count(*), min(dim) FROM kb_embeddings GROUP BY 1 ORDER BY 1"
        )
        documents, passages = await corpus_counts(conn)
        passage_models = await conn.fetch(
            "SELECT model, count(*), min(dim) FROM kb_passage_embeddings GROUP BY 1 ORDER BY 1"
        )
    finally:
        await conn.close()
    true, false = verdicts.get("true", 0), verdicts.get("false", 0)
    print(f"knowledge base: {true + false} claims ({true} true, {false} false)")
    if domains:
        print("by domain:")
        for name, count in domains:
            print(f"  {name:<24} {count}")
    print("embeddings:" if models else "embeddings: none stored")
    for model, count, dim in models:
        print(f"  {model} (dim {dim}): {count}")
    print(f"evidence corpus: {documents} documents, {passages} passages")
    for model, count, dim in passage_models:
        print(f"  passage embeddings {model} (dim {dim}): {count}")
    return 0


def _database_url() -> str:
    return database_url()


def _run_load(args: argparse.Namespace) -> int:
    given = ([KB_PATH] if args.starter else []) + list(args.files)
    paths = [p for path in given for p in knowledge_files(path)]
    if not paths:
        args.parser.error("give FILE(s) to load, or --starter")
    return _with_database(_load_all(_database_url(), paths))


def _run_check(args: argparse.Namespace) -> int:
    from .kb_check import run_check  # loads torch and the encoder: only when asked

    return run_check(args.paths or [KB_PATH], model=args.model, fix=args.fix)


def _run_load_docs(args: argparse.Namespace) -> int:
    return _with_database(_load_docs(_database_url(), list(args.paths)))


def _run_stats(_: argparse.Namespace) -> int:
    return _with_database(_stats(_database_url()))


def _with_database(work: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(work)
    except asyncpg.UndefinedTableError:
        print(
            "the knowledge base tables do not exist yet: run `satyamark migrate`", file=sys.stderr
        )
        return 1
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``kb`` and its subcommands on the ``satyamark`` parser."""
    kb = add_command(sub, "kb", "the fact-check knowledge base", __doc__)
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    load = kb_sub.add_parser("load", help="load claims from files (uses DATABASE_URL)")
    load.add_argument("files", nargs="*", type=Path, metavar="FILE")
    load.add_argument("--starter", action="store_true", help="the starter knowledge base")
    load.set_defaults(func=_run_load, parser=load)
    add_load_docs_parser(kb_sub).set_defaults(func=_run_load_docs)
    check = kb_sub.add_parser(
        "check", help="find duplicate and contradictory claims (loads the sentence encoder)"
    )
    check.add_argument("paths", nargs="*", type=Path, metavar="FILE|DIR")
    check.add_argument("--model", default="", help="sentence encoder (default: MiniLM)")
    check.add_argument(
        "--fix", action="store_true", help="drop the later copy of each (near-)duplicate"
    )
    check.set_defaults(func=_run_check)
    stats = kb_sub.add_parser("stats", help="claims per verdict and domain")
    stats.set_defaults(func=_run_stats)
