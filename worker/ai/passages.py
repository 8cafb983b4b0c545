"""Open-world evidence: passages of documents, searched by approximate nearest neighbour.

The known-claims index (``knowledge``) is a brute-force matrix product, fine for tens of
thousands of claims. A document corpus runs to millions of passages, so ``PassageIndex``
uses faiss: an exact inner-product scan (``IndexFlatIP``) while the corpus is small, and
an HNSW graph (``IndexHNSWFlat``) from ``exact_below`` passages on, whose parameters are
chosen in ``bench/ann.py`` (recall@10 >= 0.95 on 1M synthetic 384-d vectors).

Vectors are float32 and L2-normalised (as ``SentenceEncoder`` makes them), so the inner
product is the cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np
import numpy.typing as npt
import torch

Matrix = npt.NDArray[np.float32]
IndexKind = Literal["exact", "hnsw"]

# Below this many passages an exact scan is cheap enough and needs no build time; above
# it the scan grows linearly while HNSW stays under a millisecond per query for a build
# of seconds (bench/ann.py; figures: bench/README.md).
DEFAULT_EXACT_BELOW = 20_000


@dataclass(frozen=True, slots=True)
class HnswParams:
    """HNSW graph parameters, chosen with bench/ann.py (figures in bench/README.md).

    ``m``: links per node; 32 keeps recall high on 384-d embeddings, where 16 loses
    points of recall@10 at the same ``ef_search``. ``ef_construction``: candidates kept
    while linking; 100 builds in half the time of 200 for nearly the same recall.
    ``ef_search``: candidates kept while searching (faiss keeps at least k); at 1M
    vectors 64 comes too close to recall 0.95 for a growing corpus, 128 keeps it near
    0.99 for under a millisecond per query.
    """

    m: int = 32
    ef_construction: int = 100
    ef_search: int = 128


DEFAULT_HNSW = HnswParams()


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage of a document; ``start``/``end`` are character offsets into the
    document's text (``text == document_text[start:end]``)."""

    id: int
    text: str
    url: str
    title: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PassageMatch:
    passage: Passage
    similarity: float


def as_matrix(vectors: torch.Tensor | Matrix, dim: int | None = None) -> Matrix:
    """``vectors`` as a C-contiguous float32 (n, dim) array, without a copy when it is one."""
    array = vectors.detach().cpu().numpy() if isinstance(vectors, torch.Tensor) else vectors
    matrix: Matrix = np.ascontiguousarray(array, dtype=np.float32)
    if matrix.ndim != 2 or (dim is not None and matrix.shape[1] != dim):
        raise ValueError(f"expected an (n, {dim or 'dim'}) matrix, got shape {matrix.shape}")
    return matrix


def build_faiss_index(
    vectors: Matrix,
    *,
    exact_below: int = DEFAULT_EXACT_BELOW,
    hnsw: HnswParams = DEFAULT_HNSW,
) -> faiss.Index:
    """An inner-product faiss index holding ``vectors`` (row i has faiss id i)."""
    dim = int(vectors.shape[1])
    index: faiss.Index
    if vectors.shape[0] < exact_below:
        index = faiss.IndexFlatIP(dim)
    else:
        graph = faiss.IndexHNSWFlat(dim, hnsw.m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = hnsw.ef_construction
        graph.hnsw.efSearch = hnsw.ef_search
        index = graph
    if vectors.shape[0]:
        index.add(vectors)
    return index


class PassageIndex:
    """Passages and their embeddings in a faiss index; ``search`` is thread-safe for
    readers, and a new corpus means a new ``PassageIndex`` (built off the event loop)."""

    def __init__(
        self,
        passages: Sequence[Passage],
        vectors: torch.Tensor | Matrix,
        *,
        exact_below: int = DEFAULT_EXACT_BELOW,
        hnsw: HnswParams = DEFAULT_HNSW,
    ) -> None:
        matrix = as_matrix(vectors)
        if len(passages) != matrix.shape[0]:
            raise ValueError(f"{len(passages)} passages but {matrix.shape[0]} vectors")
        self.passages = list(passages)
        self.dim = int(matrix.shape[1])
        self.ids = np.fromiter((p.id for p in self.passages), dtype=np.int64, count=len(passages))
        self.index = build_faiss_index(matrix, exact_below=exact_below, hnsw=hnsw)
        self.kind: IndexKind = "exact" if isinstance(self.index, faiss.IndexFlatIP) else "hnsw"

    @classmethod
    def empty(cls, dim: int) -> PassageIndex:
        return cls([], np.zeros((0, dim), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.passages)

    def vectors(self) -> Matrix:
        """A copy of the stored vectors, in passage order (to carry them into the next
        index without asking the database or the encoder again)."""
        if not self.passages:
            return np.zeros((0, self.dim), dtype=np.float32)
        return as_matrix(self.index.reconstruct_n(0, len(self.passages)))

    def search(self, queries: torch.Tensor, k: int) -> list[list[PassageMatch]]:
        """The ``k`` passages closest to each query (rows of ``queries``), best first.

        Exact below ``exact_below`` passages, approximate above: a true neighbour may
        then be missed (recall@10 ~0.99 with the default parameters).
        """
        count = int(queries.shape[0])
        if not self.passages or count == 0 or k <= 0:
            return [[] for _ in range(count)]
        # faiss's HNSW search keeps max(efSearch, k) candidates, so any k is honoured.
        sims, rows = self.index.search(as_matrix(queries, self.dim), min(k, len(self.passages)))
        return [
            [
                PassageMatch(self.passages[int(row)], float(sim))
                for sim, row in zip(row_sims, row_ids, strict=True)
                if row >= 0  # faiss pads with -1 when it finds fewer than k
            ]
            for row_sims, row_ids in zip(sims, rows, strict=True)
        ]


def set_index_threads(threads: int) -> None:
    """Threads faiss searches and builds with (process-wide)."""
    faiss.omp_set_num_threads(threads)
