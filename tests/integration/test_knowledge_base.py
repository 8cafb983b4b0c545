"""The knowledge base in real PostgreSQL: idempotent loads, stale embeddings, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from shared import knowledge as kb
from tests.integration.kb_helpers import assert_cannot_read, run_kb, vector

MODEL = "test/minilm"


def record(n: int, **change: Any) -> kb.KbRecord:
    fields: dict[str, Any] = {
        "claim": f"Claim number {n} is a known claim.",
        "verdict": n % 2 == 0,
        "explanation": f"Explanation {n}.",
        "source_url": f"https://example.org/{n}",
        "source_name": "Example",
        "domain": "science" if n % 3 else None,
    }
    return kb.KbRecord.model_validate({**fields, **change})


async def timestamps(conn: asyncpg.Connection) -> dict[str, Any]:
    rows = await conn.fetch("SELECT claim_key, updated_at FROM kb_claims")
    return {row["claim_key"]: row["updated_at"] for row in rows}


async def test_loading_twice_changes_nothing(conn: asyncpg.Connection) -> None:
    records = [record(n) for n in range(7)]
    assert await kb.upsert_records(conn, records, batch_size=3) == kb.LoadStats(inserted=7)
    before = await timestamps(conn)
    version = await kb.kb_version(conn)
    batches: list[int] = []
    again = await kb.upsert_records(conn, records, batch_size=3, on_batch=batches.append)
    assert again == kb.LoadStats(unchanged=7)
    assert batches == [3, 3, 1]
    assert await timestamps(conn) == before
    assert await kb.kb_version(conn) == version


async def test_fetch_claims_in_id_order(conn: asyncpg.Connection) -> None:
    await kb.upsert_records(conn, [record(1), record(2, source_name=None)])
    claims = await kb.fetch_claims(conn)
    assert [c.claim for c in claims] == [record(1).claim, record(2).claim]
    assert claims[0].id < claims[1].id
    assert claims[1] == kb.KbClaim(
        id=claims[1].id,
        claim="Claim number 2 is a known claim.",
        verdict=True,
        explanation="Explanation 2.",
        source_url="https://example.org/2",
        source_name=None,
    )
    assert claims[0].verdict is False


async def test_changed_explanation_updates_one_row_and_keeps_embeddings(
    conn: asyncpg.Connection,
) -> None:
    await kb.upsert_records(conn, [record(n) for n in range(3)])
    ids = {c.claim: c.id for c in await kb.fetch_claims(conn)}
    await kb.save_embeddings(conn, MODEL, 4, [(i, vector(i)) for i in ids.values()])
    before = await timestamps(conn)
    version = await kb.kb_version(conn)

    changed = [record(0), record(1, explanation="A better explanation."), record(2)]
    assert await kb.upsert_records(conn, changed) == kb.LoadStats(updated=1, unchanged=2)

    after = await timestamps(conn)
    moved = [key for key in after if after[key] != before[key]]
    assert moved == [record(1).key]
    assert await kb.kb_version(conn) != version
    assert len(await kb.fetch_embeddings(conn, MODEL)) == 3
    by_id = {c.id: c for c in await kb.fetch_claims(conn)}
    assert by_id[ids[record(1).claim]].explanation == "A better explanation."


@pytest.mark.parametrize(
    "change", [{"verdict": True}, {"claim": "CLAIM number 1 is a known claim!"}]
)
async def test_changed_verdict_or_text_drops_that_claims_embeddings(
    conn: asyncpg.Connection, change: dict[str, Any]
) -> None:
    await kb.upsert_records(conn, [record(n) for n in range(3)])
    ids = {c.claim: c.id for c in await kb.fetch_claims(conn)}
    await kb.save_embeddings(conn, MODEL, 4, [(i, vector(i)) for i in ids.values()])
    await kb.save_embeddings(conn, "other/model", 2, [(i, vector(i, 2)) for i in ids.values()])

    stats = await kb.upsert_records(conn, [record(1, **change)])
    assert stats == kb.LoadStats(updated=1)  # same claim_key: the row is updated in place

    stale = ids[record(1).claim]
    for model in (MODEL, "other/model"):
        kept = await kb.fetch_embeddings(conn, model)
        assert set(kept) == set(ids.values()) - {stale}, model
    [claim] = [c for c in await kb.fetch_claims(conn) if c.id == stale]
    assert (claim.claim, claim.verdict) == (record(1, **change).claim, record(1, **change).verdict)


async def test_duplicates_in_one_call_collapse_to_the_last(conn: asyncpg.Connection) -> None:
    stats = await kb.upsert_records(conn, [record(1), record(1, explanation="Second.")])
    assert stats == kb.LoadStats(inserted=1)
    [claim] = await kb.fetch_claims(conn)
    assert claim.explanation == "Second."


async def test_kb_version_moves_on_insert_update_delete(conn: asyncpg.Connection) -> None:
    empty = await kb.kb_version(conn)
    assert empty == (0, None, None)
    await kb.upsert_records(conn, [record(1), record(2)])
    two = await kb.kb_version(conn)
    assert two[0] == 2 and two != empty
    await kb.upsert_records(conn, [record(3)])
    three = await kb.kb_version(conn)
    assert three[0] == 3 and three != two
    await kb.upsert_records(conn, [record(3, explanation="Changed.")])
    updated = await kb.kb_version(conn)
    assert updated != three and updated[0] == 3
    await conn.execute("DELETE FROM kb_claims WHERE claim_key = $1", record(1).key)
    deleted = await kb.kb_version(conn)
    assert deleted != updated and deleted[0] == 2
    # Delete one and add another: same count, but the highest id moves.
    await conn.execute("DELETE FROM kb_claims WHERE claim_key = $1", record(2).key)
    await kb.upsert_records(conn, [record(4)])
    assert (await kb.kb_version(conn))[0] == 2 and await kb.kb_version(conn) != deleted


async def test_embeddings_round_trip_and_are_kept(conn: asyncpg.Connection) -> None:
    await kb.upsert_records(conn, [record(1), record(2)])
    first, second = (c.id for c in await kb.fetch_claims(conn))
    await kb.save_embeddings(conn, MODEL, 4, [(first, vector(1)), (second, vector(2))])
    # Existing vectors are kept; a vector for a claim that no longer exists is dropped.
    await kb.save_embeddings(conn, MODEL, 4, [(first, vector(9)), (second + 1000, vector(3))])
    assert await kb.fetch_embeddings(conn, MODEL) == {first: vector(1), second: vector(2)}
    assert await kb.fetch_embeddings(conn, "unknown/model") == {}
    with pytest.raises(ValueError, match="float32"):
        await kb.save_embeddings(conn, MODEL, 4, [(first, b"\x00" * 15)])
    await kb.save_embeddings(conn, MODEL, 4, [])
    await conn.execute("DELETE FROM kb_claims WHERE id = $1", first)
    assert await kb.fetch_embeddings(conn, MODEL) == {second: vector(2)}


# ------------------------------------------------------------------------ CLI


def kb_line(n: int, **change: Any) -> str:
    return json.dumps({**record(n).model_dump(), **change})


async def test_cli_loads_reports_and_is_idempotent(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text(
        "\n".join(
            [
                kb_line(1),
                '{"claim": "no closing brace"',
                kb_line(2),
                kb_line(3, verdict="perhaps"),
                kb_line(1, explanation="A duplicate of line 1."),
            ]
        )
        + "\n"
    )
    status, out, err = await run_kb(database_url, "load", str(path))
    assert status == 0, err
    assert f"{path}: 2 inserted, 0 updated, 0 unchanged, 3 rejected" in out
    errors = [line for line in err.splitlines() if line.startswith(f"{path}:")]
    assert [line.split(":")[1] for line in errors] == ["2", "4", "5"]
    assert "malformed JSON" in errors[0]
    assert "verdict" in errors[1]
    assert f"same claim as {path}:1" in errors[2]

    claims = await kb.fetch_claims(conn)
    assert [c.claim for c in claims] == [record(1).claim, record(2).claim]
    assert claims[0].explanation == "Explanation 1."  # the duplicate did not win

    status, out, err = await run_kb(database_url, "load", str(path))
    assert status == 0, err
    assert f"{path}: 0 inserted, 0 updated, 2 unchanged, 3 rejected" in out

    status, out, err = await run_kb(database_url, "stats")
    assert status == 0, err
    assert "knowledge base: 2 claims (1 true, 1 false)" in out


async def test_cli_claim_review_json(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "reviews.json"
    reviews = [
        {
            "@type": "ClaimReview",
            "claimReviewed": f"Review claim {n}",
            "url": f"https://factcheck.example/{n}",
            "author": {"name": "Example Checks"},
            "reviewRating": {"alternateName": rating},
        }
        for n, rating in enumerate(["False", "True", "Half true"])
    ]
    path.write_text(json.dumps({"@context": "https://schema.org", "@graph": reviews}, indent=2))
    status, out, err = await run_kb(database_url, "load", str(path))
    assert status == 0, err
    assert f"{path}: 2 inserted, 0 updated, 0 unchanged, 1 rejected" in out
    assert f"{path}:3: rating 'Half true' is neither true nor false" in err


async def test_cli_failures(database_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    await assert_cannot_read(database_url, "load", missing)

    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n" + kb_line(1, verdict="unknown") + "\n")
    status, out, err = await run_kb(database_url, "load", str(bad))
    assert status == 1
    assert f"{bad}:1: malformed JSON" in err
    assert f"{bad}:2: verdict" in err
    assert f"{bad}: 0 inserted, 0 updated, 0 unchanged, 2 rejected" in out

    # A good file still loads when another in the same run is missing; the run fails.
    good = tmp_path / "good.jsonl"
    good.write_text(kb_line(1) + "\n")
    status, out, _ = await run_kb(database_url, "load", str(missing), str(good))
    assert status == 1
    assert f"{good}: 1 inserted" in out

    for usage in (["load"], ["frobnicate"], []):
        status, _, _ = await run_kb(database_url, *usage)
        assert status == 2, usage


async def test_cli_creates_and_migrates_a_fresh_database(database_url: str, tmp_path: Path) -> None:
    name = urlsplit(database_url).path.lstrip("/") + "_fresh"
    fresh = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    good = tmp_path / "good.jsonl"
    good.write_text(kb_line(1) + "\n")
    try:
        status, out, err = await run_kb(fresh, "load", str(good))
        assert status == 0, err
        assert f"{good}: 1 inserted" in out
    finally:
        admin = await asyncpg.connect(database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_bundled_kb_loads_cleanly_and_again_changes_nothing(database_url: str) -> None:
    files = kb.knowledge_files(kb.KB_PATH)
    assert len(files) >= 40  # one file per domain
    status, out, err = await run_kb(database_url, "load", "--starter")
    assert status == 0, err
    for path in files:
        results = list(kb.read_records(path))
        assert all(isinstance(r, kb.KbRecord) for _, r in results), path
        assert f"{path}: {len(results)} inserted, 0 updated, 0 unchanged, 0 rejected" in out
    # A folder loads like its files; loading again changes nothing.
    status, out, err = await run_kb(database_url, "load", str(kb.KB_PATH))
    assert status == 0, err
    assert " 0 inserted, 0 updated," in out and " inserted" in out
    assert not [line for line in out.splitlines() if " 0 inserted, 0 updated, " not in line]
    conn = await asyncpg.connect(database_url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM kb_claims")
    finally:
        await conn.close()
    assert count == sum(len(list(kb.read_records(path))) for path in files)
