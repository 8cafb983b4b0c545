"""The evidence corpus in real PostgreSQL: ``satyamark kb load-docs``, idempotent reloads,
changed documents, stored passage embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest

from shared.knowledge.documents import Document
from shared.knowledge.passages_store import (
    DocumentLoadStats,
    corpus_counts,
    fetch_passage_embeddings,
    fetch_passages,
    passages_version,
    save_passage_embeddings,
    upsert_documents,
)
from tests.integration.kb_helpers import assert_cannot_read, run_kb, vector

MODEL = "test/minilm"


def long_text(topic: str, sentences: int = 30) -> str:
    return " ".join(
        f"Sentence {i} about {topic} says something worth checking later." for i in range(sentences)
    )


def document(n: int, **change: str) -> Document:
    fields = {"url": f"https://example.org/doc/{n}", "title": f"Doc {n}", "text": long_text(str(n))}
    fields.update(change)
    return Document(**fields)


async def stored_texts(conn: asyncpg.Connection) -> dict[str, str]:
    """url -> the document's passages joined by offsets (start of each passage)."""
    rows = await conn.fetch(
        "SELECT d.url, p.text FROM kb_passages p JOIN kb_documents d ON d.id = p.document_id"
        " ORDER BY d.url, p.ordinal"
    )
    out: dict[str, str] = {}
    for row in rows:
        out[row["url"]] = out.get(row["url"], "") + "|" + row["text"]
    return out


async def test_upsert_is_idempotent_and_replaces_changed_documents(
    conn: asyncpg.Connection,
) -> None:
    docs = [document(n) for n in range(5)]
    first = await upsert_documents(conn, docs, batch_size=2)
    total = sum(len(d.passages()) for d in docs)
    assert first == DocumentLoadStats(inserted=5, passages=total)
    assert total > 5  # each document is several passages
    assert await corpus_counts(conn) == (5, total)
    version = await passages_version(conn)
    assert version[0] == total
    rows = await conn.fetch("SELECT id, loaded_at FROM kb_documents ORDER BY id")

    batches: list[int] = []
    again = await upsert_documents(conn, docs, batch_size=2, on_batch=batches.append)
    assert again == DocumentLoadStats(unchanged=5)
    assert batches == [2, 2, 1]
    assert await passages_version(conn) == version
    assert await conn.fetch("SELECT id, loaded_at FROM kb_documents ORDER BY id") == rows

    # Embeddings of every passage; a changed text replaces that document's passages and
    # drops their embeddings, and only theirs.
    passages = await fetch_passages(conn)
    await save_passage_embeddings(conn, MODEL, 4, [(p.id, vector(p.id)) for p in passages])
    changed = document(2, text=long_text("a changed topic", 12))
    stats = await upsert_documents(conn, [*docs[:2], changed, *docs[3:]])
    assert stats == DocumentLoadStats(updated=1, unchanged=4, passages=len(changed.passages()))
    after = await fetch_passages(conn)
    old_ids = {p.id for p in passages if p.url == changed.url}
    assert not old_ids & {p.id for p in after}
    assert [p.text for p in after if p.url == changed.url] == [s.text for s in changed.passages()]
    kept = await fetch_passage_embeddings(conn, MODEL)
    assert set(kept) == {p.id for p in passages} - old_ids
    new_version = await passages_version(conn)
    assert new_version != version
    assert new_version[1] is not None and version[1] is not None and new_version[1] > version[1]

    # A new title alone updates the row in place: passages and embeddings stay.
    retitled = document(0, title="A better title")
    stats = await upsert_documents(conn, [retitled])
    assert stats == DocumentLoadStats(updated=1)
    assert await passages_version(conn) != new_version
    assert {p.title for p in await fetch_passages(conn) if p.url == retitled.url} == {
        "A better title"
    }
    assert set(await fetch_passage_embeddings(conn, MODEL)) == set(kept)


async def test_fetch_passages_pages_in_id_order_with_offsets(conn: asyncpg.Connection) -> None:
    docs = [document(n) for n in range(3)]
    await upsert_documents(conn, docs)
    every = await fetch_passages(conn)
    assert [p.id for p in every] == sorted(p.id for p in every)
    pages = []
    after = 0
    while page := await fetch_passages(conn, after_id=after, limit=4):
        pages.extend(page)
        after = page[-1].id
    assert pages == every
    by_url = {d.url: d for d in docs}
    for p in every:
        source = by_url[p.url]
        assert source.text[p.start : p.end] == p.text
        assert p.title == source.title
    ordinals = [p.ordinal for p in every if p.url == docs[0].url]
    assert ordinals == list(range(len(docs[0].passages())))


async def test_passage_embeddings_round_trip_and_are_dropped_with_their_document(
    conn: asyncpg.Connection,
) -> None:
    await upsert_documents(conn, [document(1), document(2)])
    passages = await fetch_passages(conn)
    first, second = passages[0].id, passages[-1].id
    await save_passage_embeddings(conn, MODEL, 4, [(first, vector(1)), (second, vector(2))])
    # Existing vectors are kept; a vector of a passage that no longer exists is dropped.
    await save_passage_embeddings(conn, MODEL, 4, [(first, vector(9)), (second + 999, vector(3))])
    assert await fetch_passage_embeddings(conn, MODEL) == {first: vector(1), second: vector(2)}
    assert await fetch_passage_embeddings(conn, MODEL, [second]) == {second: vector(2)}
    assert await fetch_passage_embeddings(conn, "other/model") == {}
    with pytest.raises(ValueError, match="float32"):
        await save_passage_embeddings(conn, MODEL, 4, [(first, b"\x00" * 15)])
    await conn.execute("DELETE FROM kb_documents WHERE url = $1", document(1).url)
    assert await fetch_passage_embeddings(conn, MODEL) == {second: vector(2)}
    count, _, _ = await passages_version(conn)
    assert count == len(document(2).passages())


async def test_empty_corpus_version(conn: asyncpg.Connection) -> None:
    assert await passages_version(conn) == (0, None, None)
    assert await corpus_counts(conn) == (0, 0)


# ------------------------------------------------------------------------ CLI


def write_corpus(root: Path) -> dict[str, Path]:
    (root / "web").mkdir(parents=True)
    files = {
        "jsonl": root / "corpus.jsonl",
        "txt": root / "notes.txt",
        "md": root / "web" / "river.md",
        "html": root / "web" / "page.html",
    }
    files["jsonl"].write_text(
        "\n".join(
            [
                json.dumps(
                    {"title": "One", "url": "https://example.org/1", "text": long_text("a")}
                ),
                '{"text": "broken',
                json.dumps({"text": ""}),
                json.dumps({"url": "https://example.org/1", "text": "Same URL again."}),
                json.dumps({"url": "https://example.org/2", "text": "A short second document."}),
            ]
        )
        + "\n"
    )
    files["txt"].write_text(long_text("notes", 10) + "\n")
    files["md"].write_text("# The Nile\n\nThe **Nile** flows north.\n")
    files["html"].write_text("<title>Page</title><p>Visible text of a page.</p>")
    return files


async def test_cli_load_docs_reports_per_file_and_is_idempotent(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    files = write_corpus(tmp_path)
    status, out, err = await run_kb(database_url, "load-docs", str(tmp_path))
    assert status == 0, err
    jsonl = files["jsonl"]
    passages_one = len(Document("u", "t", long_text("a")).passages())
    assert (
        f"{jsonl}: 2 inserted, 0 updated, 0 unchanged,"
        f" {passages_one + 1} passages written, 3 rejected"
    ) in out
    assert f"{files['md']}: 1 inserted, 0 updated, 0 unchanged, 1 passages written, 0 rejected" in (
        out
    )
    assert f"{files['html']}: 1 inserted" in out and f"{files['txt']}: 1 inserted" in out
    rejected = [line for line in err.splitlines() if line.startswith(f"{jsonl}:")]
    assert [line.split(":")[1] for line in rejected] == ["2", "3", "4"]
    assert "malformed JSON" in rejected[0]
    assert "text: is empty" in rejected[1]
    assert f"same url as {jsonl}:1" in rejected[2]

    documents, passages = await corpus_counts(conn)
    assert documents == 5
    titles = dict(await conn.fetch("SELECT url, title FROM kb_documents"))
    assert titles[files["md"].resolve().as_uri()] == "The Nile"
    assert titles[files["html"].resolve().as_uri()] == "Page"
    assert titles[files["txt"].resolve().as_uri()] == "notes.txt"
    before = await stored_texts(conn)

    status, out, err = await run_kb(database_url, "load-docs", str(tmp_path))
    assert status == 0, err
    assert f"{jsonl}: 0 inserted, 0 updated, 2 unchanged, 0 passages written, 3 rejected" in out
    assert await stored_texts(conn) == before

    # A changed file replaces its document's passages; the rest stay.
    files["md"].write_text("# The Nile\n\nThe Nile flows north into the sea.\n")
    status, out, err = await run_kb(database_url, "load-docs", str(files["md"]))
    assert status == 0, err
    assert f"{files['md']}: 0 inserted, 1 updated, 0 unchanged, 1 passages written" in out
    after = await stored_texts(conn)
    assert (
        after[files["md"].resolve().as_uri()] == "|The Nile\n\nThe Nile flows north into the sea."
    )
    assert {u: t for u, t in after.items() if "river.md" not in u} == {
        u: t for u, t in before.items() if "river.md" not in u
    }
    assert await corpus_counts(conn) == (documents, passages)

    status, out, err = await run_kb(database_url, "stats")
    assert status == 0, err
    assert f"evidence corpus: 5 documents, {passages} passages" in out


async def test_cli_load_docs_failures(database_url: str, tmp_path: Path) -> None:
    err = await assert_cannot_read(database_url, "load-docs", tmp_path / "missing.txt")
    assert "no valid document read" in err

    bad = tmp_path / "bad.jsonl"
    bad.write_text('not json\n{"text": "  "}\n')
    status, out, err = await run_kb(database_url, "load-docs", str(bad))
    assert status == 1
    assert f"{bad}:1: malformed JSON" in err and f"{bad}:2: text: is empty" in err
    assert f"{bad}: 0 inserted, 0 updated, 0 unchanged, 0 passages written, 2 rejected" in out

    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    status, _, err = await run_kb(database_url, "load-docs", str(empty_dir))
    assert status == 1 and "no document files" in err

    # A file that is not UTF-8 inside a folder is reported and skipped; the run succeeds
    # on the rest. The same file named on the command line fails the run.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("A good document.")
    (corpus / "binary.txt").write_bytes(b"\xff\xfe\x00")
    status, out, err = await run_kb(database_url, "load-docs", str(corpus))
    assert status == 0, err
    assert f"{corpus / 'binary.txt'}: cannot read: not UTF-8" in err
    assert f"{corpus / 'good.txt'}: 1 inserted" in out
    status, _, _ = await run_kb(
        database_url, "load-docs", str(corpus / "binary.txt"), str(corpus / "good.txt")
    )
    assert status == 1

    status, _, _ = await run_kb(database_url, "load-docs")
    assert status == 2
