"""Open-world evidence in the worker: the passage index (exact and HNSW), its sync with
PostgreSQL through the tiny encoder, and the cross-encoder reranker."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from shared.knowledge.documents import Document
from shared.knowledge.passages_store import fetch_passages, upsert_documents
from tests.utils.tiny_models import build_tiny_encoder
from tests.worker.helpers import Installed
from worker.ai.encoder import SentenceEncoder
from worker.ai.passage_evidence import find_passages
from worker.ai.passage_sync import DatabasePassages, passage_index_from_files
from worker.ai.passages import HnswParams, Passage, PassageIndex
from worker.ai.rerank import CrossEncoderReranker, positive_column

# ---------------------------------------------------------------- the index


def clustered(n: int, dim: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    centres = torch.nn.functional.normalize(
        torch.randn(max(4, n // 100), dim, generator=gen), dim=1
    )
    which = torch.randint(len(centres), (n,), generator=gen)
    points = centres[which] + 0.6 * torch.randn(n, dim, generator=gen) / dim**0.5
    return torch.nn.functional.normalize(points, dim=1)


def passages_for(n: int) -> list[Passage]:
    return [
        Passage(1000 + i, f"passage {i}", f"https://e.org/{i}", f"T{i}", 0, 9) for i in range(n)
    ]


def brute_force(vectors: torch.Tensor, queries: torch.Tensor, k: int) -> list[list[int]]:
    return torch.topk(queries @ vectors.T, k, dim=1).indices.tolist()


def test_exact_index_matches_brute_force() -> None:
    vectors, queries = clustered(500, 32, seed=1), clustered(20, 32, seed=2)
    passages = passages_for(500)
    index = PassageIndex(passages, vectors, exact_below=1000)
    assert index.kind == "exact" and len(index) == 500
    found = index.search(queries, 5)
    expected = brute_force(vectors, queries, 5)
    for matches, rows, query in zip(found, expected, queries, strict=True):
        assert [m.passage for m in matches] == [passages[r] for r in rows]
        for match, row in zip(matches, rows, strict=True):
            assert match.similarity == pytest.approx(float(query @ vectors[row]), abs=1e-5)
        assert [m.similarity for m in matches] == sorted(
            (m.similarity for m in matches), reverse=True
        )


def test_hnsw_index_recall_against_exact() -> None:
    vectors, queries = clustered(4000, 48, seed=3), clustered(200, 48, seed=4)
    passages = passages_for(4000)
    exact = PassageIndex(passages, vectors, exact_below=10_000)
    graph = PassageIndex(passages, vectors, exact_below=1000)  # the default parameters
    assert (exact.kind, graph.kind) == ("exact", "hnsw")
    truth = [{m.passage.id for m in found} for found in exact.search(queries, 10)]
    approx = [{m.passage.id for m in found} for found in graph.search(queries, 10)]
    recall = sum(len(a & t) for a, t in zip(approx, truth, strict=True)) / (10 * len(truth))
    assert recall >= 0.95
    # k above efSearch is still honoured.
    narrow = PassageIndex(passages, vectors, exact_below=0, hnsw=HnswParams(8, 40, 16))
    assert all(len(found) == 100 for found in narrow.search(queries[:3], 100))
    # The stored vectors come back in passage order (what the sync carries over).
    assert np.allclose(graph.vectors(), vectors.numpy())


def test_small_empty_and_malformed_indexes() -> None:
    vectors = clustered(3, 8, seed=5)
    index = PassageIndex(passages_for(3), vectors)
    [found] = index.search(vectors[:1], 10)  # k above the corpus size: all of it
    assert len(found) == 3 and found[0].passage.id == 1000
    assert index.search(vectors[:2], 0) == [[], []]
    assert index.search(torch.zeros((0, 8)), 3) == []
    empty = PassageIndex.empty(8)
    assert len(empty) == 0 and empty.search(vectors, 3) == [[], [], []]
    assert empty.vectors().shape == (0, 8)
    with pytest.raises(ValueError, match="passages but"):
        PassageIndex(passages_for(2), vectors)
    with pytest.raises(ValueError, match="matrix"):
        index.search(torch.zeros((1, 9)), 1)


# ---------------------------------------------------------------- sync with PostgreSQL


TOPICS = ["Paris is the capital of France", "Water boils at 100 degrees", "The moon orbits"]


def corpus_document(n: int, topic: str | None = None) -> Document:
    topic = topic or TOPICS[n % len(TOPICS)]
    text = " ".join(f"{topic} and fact {n}.{i} is stated here in full." for i in range(25))
    return Document(url=f"https://example.org/{n}", title=f"Doc {n}", text=text)


def make_sync(
    database_url: str,
    encoder: SentenceEncoder,
    seen: Installed[PassageIndex],
    exact_below: int = 50_000,
) -> DatabasePassages:
    return DatabasePassages(
        database_url,
        encoder,
        seen.install,
        seen.run_model,
        exact_below=exact_below,
        embed_chunk=7,
        page_size=5,
    )


async def test_sync_embeds_once_caches_and_follows_changes(
    database_url: str, conn: asyncpg.Connection, encoder: SentenceEncoder
) -> None:
    await upsert_documents(conn, [corpus_document(n) for n in range(3)])
    stored = await fetch_passages(conn)
    total = len(stored)
    assert total > 7  # several chunks of embed_chunk and pages of page_size

    first = Installed[PassageIndex]()
    sync = make_sync(database_url, encoder, first)
    assert await sync.refresh()
    assert first.index is not None and len(first.index) == total
    assert first.embedded == total and first.calls == -(-total // 7)
    assert await conn.fetchval("SELECT count(*) FROM kb_passage_embeddings") == total
    assert not await sync.refresh()  # nothing changed

    # The index finds a passage by its own embedding, and carries its source.
    target = stored[4]
    [best, *_] = first.index.search(encoder.encode([target.text]), 3)[0]
    assert best.passage.id == target.id and best.similarity == pytest.approx(1.0, abs=1e-4)
    assert (best.passage.url, best.passage.title) == (target.url, target.title)
    assert (best.passage.start, best.passage.end) == (target.start, target.end)

    # Another worker (or a restart) reuses the stored embeddings: nothing is embedded.
    second = Installed[PassageIndex]()
    assert await make_sync(database_url, encoder, second, exact_below=0).refresh()
    assert second.index is not None and second.embedded == 0
    assert second.index.kind == "hnsw" and len(second.index) == total
    assert np.allclose(second.index.vectors(), first.index.vectors(), atol=1e-6)

    # A changed document: only its new passages are embedded; the others' vectors come
    # from the previous index; its old passages are gone.
    changed = corpus_document(1, topic="Mount Everest is the highest mountain")
    await upsert_documents(conn, [changed])
    assert await sync.refresh()
    new_count = len(changed.passages())
    assert first.embedded == total + new_count
    texts = {p.text for p in first.index.passages}
    assert {p.text for p in changed.passages()} <= texts
    assert len(first.index) == total - len([p for p in stored if p.url == changed.url]) + new_count

    # A deleted document disappears from the index.
    await conn.execute("DELETE FROM kb_documents WHERE url = $1", corpus_document(0).url)
    assert await sync.refresh()
    assert corpus_document(0).url not in {p.url for p in first.index.passages}
    assert first.embedded == total + new_count


async def test_sync_of_an_empty_corpus_and_an_unreachable_database(
    database_url: str, encoder: SentenceEncoder
) -> None:
    seen = Installed[PassageIndex]()
    assert await make_sync(database_url, encoder, seen).refresh()
    assert seen.index is not None and len(seen.index) == 0 and seen.index.dim == encoder.dim
    lost = Installed[PassageIndex]()
    with pytest.raises((OSError, asyncpg.PostgresError, TimeoutError)):
        await make_sync("postgresql://postgres@127.0.0.1:1/none", encoder, lost).refresh()
    assert lost.index is None


def test_index_from_files(tmp_path: Path, encoder: SentenceEncoder) -> None:
    (tmp_path / "a.txt").write_text(corpus_document(1).text)
    (tmp_path / "b.jsonl").write_text('{"text": "Paris is the capital of France."}\nbroken\n')
    index = passage_index_from_files(encoder, [tmp_path / "a.txt", tmp_path / "b.jsonl"])
    assert [p.id for p in index.passages] == list(range(1, len(index) + 1))
    [best, *_] = index.search(encoder.encode(["Paris is the capital of France."]), 2)[0]
    assert best.passage.text == "Paris is the capital of France."
    assert best.passage.url.endswith("b.jsonl#line-1")


# ---------------------------------------------------------------- reranker


def build_cross_encoder(path: Path, labels: dict[int, str] | None) -> Path:
    """A tiny BERT cross-encoder: one relevance logit, or the given labels."""
    build_tiny_encoder(path)  # the tokenizer
    config: BertConfig = BertConfig.from_pretrained(path)
    if labels is None:
        config.num_labels = 1
    else:
        config.id2label = dict(labels)
        config.label2id = {v: k for k, v in labels.items()}
    torch.manual_seed(7)
    BertForSequenceClassification(config).save_pretrained(path)
    return path


def reranker(path: Path, batch_size: int = 3) -> CrossEncoderReranker:
    return CrossEncoderReranker(
        str(path),
        device=torch.device("cpu"),
        dtype=torch.float32,
        local_only=True,
        batch_size=batch_size,
    )


PASSAGES = [
    "Paris is the capital of France.",
    "Water boils at 100 degrees Celsius at sea level.",
    "The moon landing was faked in a studio.",
    "The Earth orbits the Sun once a year, which is a well-established scientific fact.",
    "Bitcoin.",
]


def test_reranker_with_one_logit_scores_each_pair_in_order(tmp_path: Path) -> None:
    path = build_cross_encoder(tmp_path / "ce1", None)
    model = reranker(path, batch_size=2)
    query = "What is the capital of France?"
    scores = model.rerank(query, PASSAGES)
    assert len(scores) == len(PASSAGES) and len(set(scores)) == len(PASSAGES)
    # Batching and length sorting do not change a pair's score.
    assert reranker(path, batch_size=64).rerank(query, PASSAGES) == pytest.approx(scores, abs=1e-5)
    tokenizer = AutoTokenizer.from_pretrained(path)
    direct = BertForSequenceClassification.from_pretrained(path)
    with torch.no_grad():
        logit = direct(**tokenizer(query, PASSAGES[3], return_tensors="pt")).logits[0, 0]
    assert scores[3] == pytest.approx(float(logit), abs=1e-5)
    # Passages are accepted as objects too; many queries in one pass.
    objects = [Passage(i, t, "u", "t", 0, len(t)) for i, t in enumerate(PASSAGES)]
    assert model.rerank(query, objects) == pytest.approx(scores, abs=1e-5)
    many = model.rerank_many([query, "boiling water"], [objects[:2], objects[1:]])
    assert [len(s) for s in many] == [2, 4]
    assert many[0] == pytest.approx(scores[:2], abs=1e-5)
    assert many[1] == pytest.approx(model.rerank("boiling water", PASSAGES[1:]), abs=1e-5)
    assert model.rerank(query, []) == []


def test_reranker_with_labels_uses_the_positive_columns_probability(tmp_path: Path) -> None:
    path = build_cross_encoder(tmp_path / "ce2", {0: "relevant", 1: "irrelevant"})
    model = reranker(path)
    assert model.column == 0
    scores = model.rerank("capital of France", PASSAGES)
    assert all(0.0 <= s <= 1.0 for s in scores)
    tokenizer = AutoTokenizer.from_pretrained(path)
    direct = BertForSequenceClassification.from_pretrained(path)
    with torch.no_grad():
        logits = direct(**tokenizer("capital of France", PASSAGES[0], return_tensors="pt")).logits
    assert scores[0] == pytest.approx(float(torch.softmax(logits, -1)[0, 0]), abs=1e-5)


def test_positive_column() -> None:
    assert positive_column({0: "LABEL_0", 1: "LABEL_1"}) == 1
    assert positive_column({0: "Entailment", 1: "neutral", 2: "contradiction"}) == 0
    assert positive_column({0: "no", 1: "yes", 2: "maybe"}) == 1


# ---------------------------------------------------------------- evidence for claims


def test_find_passages_searches_filters_and_reranks(
    tmp_path: Path, encoder: SentenceEncoder
) -> None:
    objects = [Passage(i, t, f"https://e.org/{i}", "t", 0, len(t)) for i, t in enumerate(PASSAGES)]
    index = PassageIndex(objects, encoder.encode(PASSAGES))
    claims = [PASSAGES[1], PASSAGES[3]]
    queries = encoder.encode(claims)

    plain = find_passages(claims, queries, index, candidates=4, keep=2)
    assert plain[0][0].match.passage.id == 1
    assert plain[1][0].match.passage.id == 3
    assert all(len(found) == 2 and found[0].relevance is None for found in plain)
    strict = find_passages(claims, queries, index, candidates=4, min_similarity=0.9999)
    assert [[e.match.passage.id for e in found] for found in strict] == [[1], [3]]

    model = reranker(build_cross_encoder(tmp_path / "ce", None))
    ranked = find_passages(claims, queries, index, candidates=4, keep=3, reranker=model)
    for claim, found in zip(claims, ranked, strict=True):
        assert len(found) == 3
        relevance = [e.relevance for e in found]
        assert relevance == sorted(relevance, reverse=True)  # type: ignore[type-var]
        expected = model.rerank(claim, [e.match.passage for e in found])
        assert relevance == pytest.approx(expected, abs=1e-5)
    with pytest.raises(ValueError, match="claims but"):
        find_passages(claims[:1], queries, index)
