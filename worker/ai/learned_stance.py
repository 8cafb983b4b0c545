"""A learned stance head: the classic sentence-pair classifier over the bundled encoder.

Both sentences are embedded by the worker's sentence encoder (u: the known claim, v:
the text's claim); a small network reads ``[u, v, |u − v|, u · v]`` together with the
word-level signals of ``stance.LexicalStance`` (negation, swapped roles, numbers, names,
quantifiers, words one sentence has and the other lacks) and says entails, contradicts
or neutral. It is trained on the CPU from pairs the knowledge base yields
(``worker.ai.pairs``) by ``python -m worker.ai.train_stance``; the file it writes names
the encoder it was trained with, and a worker with another encoder does not use it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from .encoder import SentenceEncoder
from .pairs import LABELS
from .quantifiers import quantifier_shift
from .quantities import numbers, numbers_conflict
from .roles import role_swap
from .stance import LexicalStance, Method, Stance
from .wording import content_stems, words

log = logging.getLogger(__name__)

# The head shipped with SatyaMark, trained on the bundled knowledge base with MiniLM.
SHIPPED_HEAD = Path(__file__).with_name("stance_head.pt")
_CONFLICTS = ("negation", "polarity", "antonym", "number", "name", "role", "quantifier",
              "stronger", "other", "swap")  # fmt: skip
N_WORD_FEATURES = len(_CONFLICTS) + 5


def word_features(premise: str, hypothesis: str, lexical: LexicalStance) -> list[float]:
    """What the word-level check sees, as numbers: which conflict it found, how many
    content words each sentence lacks, and two signals it does not act on alone."""
    said = lexical.stance(premise, hypothesis)
    known, claim = words(premise), words(hypothesis)
    known_stems, claim_stems = content_stems(known), content_stems(claim)
    extra, missing = len(claim_stems - known_stems), len(known_stems - claim_stems)
    return [
        *(float(said.conflict == c) for c in _CONFLICTS),
        min(extra, 10) / 10,
        min(missing, 10) / 10,
        len(claim_stems & known_stems) / max(1, len(claim_stems | known_stems)),
        float(role_swap(premise, hypothesis)),
        float(
            quantifier_shift(known, claim) != "" or numbers_conflict(numbers(known), numbers(claim))
        ),
    ]


def pair_features(u: torch.Tensor, v: torch.Tensor, word_rows: list[list[float]]) -> torch.Tensor:
    """(n, 4·dim + N_WORD_FEATURES) inputs of the head."""
    cosine = (u * v).sum(dim=1, keepdim=True)
    lexical = torch.tensor(word_rows, dtype=torch.float32).reshape(len(word_rows), -1)
    return torch.cat([u, v, (u - v).abs(), u * v, cosine, lexical], dim=1)


class StanceHead(nn.Module):
    def __init__(self, dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.dim = dim
        self.net = nn.Sequential(
            nn.Linear(4 * dim + 1 + N_WORD_FEATURES, hidden),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(hidden, len(LABELS)),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.net(features)
        return logits


def save_head(head: StanceHead, path: Path, *, encoder: str, report: dict[str, float]) -> None:
    torch.save(
        {"state": head.state_dict(), "dim": head.dim, "encoder": encoder, "report": report},
        path,
    )


def load_head(path: Path, *, encoder: str, dim: int) -> StanceHead | None:
    """The head at ``path`` if it was trained for this encoder; None otherwise."""
    if not path.is_file():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("encoder") != encoder or int(saved.get("dim", -1)) != dim:
        log.info(
            "stance head %s was trained for %s, not %s: using the word-level check",
            path,
            saved.get("encoder"),
            encoder,
        )
        return None
    head = StanceHead(dim)
    head.load_state_dict(saved["state"])
    return head.eval()


class LearnedStance:
    """``StanceModel`` backed by a ``StanceHead`` (see the module docstring)."""

    method: Method = "learned"

    def __init__(self, encoder: SentenceEncoder, head: StanceHead, name: str = "") -> None:
        self.encoder = encoder
        self.head = head
        self.name = name or "learned stance head"
        self.lexical = LexicalStance()

    @torch.inference_mode()
    def stances(self, pairs: list[tuple[str, str]]) -> list[Stance]:
        if not pairs:
            return []
        vectors = self.encoder.encode([p for p, _ in pairs] + [h for _, h in pairs])
        u, v = vectors[: len(pairs)], vectors[len(pairs) :]
        rows = [word_features(p, h, self.lexical) for p, h in pairs]
        probs = torch.softmax(self.head(pair_features(u, v, rows)), dim=-1)
        result = []
        for row, (premise, hypothesis) in zip(probs, pairs, strict=True):
            index = int(row.argmax())
            label = LABELS[index]
            # Why they disagree still comes from the words: a negation makes a false
            # known claim's opposite true, a swapped name does not.
            said = self.lexical.stance(premise, hypothesis)
            conflict = said.conflict if label == "contradicts" else ""
            if label == "entails" and said.conflict == "stronger":
                conflict = "stronger"
            result.append(Stance(label, float(row[index]), conflict, "learned"))
        return result
