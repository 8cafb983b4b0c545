"""The stance from an MNLI-style classifier (``WORKER_NLI_MODEL``): premise = the
known claim, hypothesis = the text's claim. The label order is read from the model's own
config; why two sentences disagree (a negation or a swapped name) still comes from the
word-level check, which NLI does not tell apart."""

from __future__ import annotations

from typing import Unpack

import torch

from .pair_classifier import PairModel, PairOptions
from .stance import Conflict, Label, LexicalStance, Method, Stance

_LABEL_NAMES: dict[str, Label] = {
    "entailment": "entails", "entails": "entails", "entail": "entails",
    "neutral": "neutral", "not_entailment": "neutral",
    "contradiction": "contradicts", "contradicts": "contradicts", "contradict": "contradicts",
}  # fmt: skip


def label_columns(id2label: dict[int, str]) -> dict[Label, int]:
    """Which output column means what, from the model's own config (they differ)."""
    columns: dict[Label, int] = {}
    for index, name in id2label.items():
        label = _LABEL_NAMES.get(name.lower().strip())
        if label is None:
            raise ValueError(f"not an NLI label: {name!r} (labels: {sorted(id2label.values())})")
        columns[label] = int(index)
    if "entails" not in columns or len(columns) < 2:
        raise ValueError(f"an NLI model needs an entailment label, got {id2label}")
    return columns


class NliStance(PairModel):
    """An MNLI-style classifier: premise = the known claim, hypothesis = the text's claim."""

    method: Method = "nli"
    DEFAULT_MAX_LENGTH = 256
    DEFAULT_BATCH_SIZE = 64

    def __init__(self, model_ref: str, **options: Unpack[PairOptions]) -> None:
        super().__init__(model_ref, **options)
        self.columns = label_columns(self.classifier.id2label)
        # The word-level check tells a negation from a swapped name, which NLI does not.
        self._words = LexicalStance()

    def probabilities(self, pairs: list[tuple[str, str]]) -> torch.Tensor:
        """(n, labels) softmax probabilities, in the order given."""
        return torch.softmax(self.classifier.logits(pairs), dim=-1)

    def stances(self, pairs: list[tuple[str, str]]) -> list[Stance]:
        probs = self.probabilities(pairs)
        result = []
        for row, (premise, hypothesis) in zip(probs, pairs, strict=True):
            scores = {label: float(row[col]) for label, col in self.columns.items()}
            label = max(scores, key=lambda k: scores[k])
            conflict: Conflict = ""
            if label == "contradicts":
                conflict = self._words.stance(premise, hypothesis).conflict
            result.append(Stance(label, scores[label], conflict, "nli"))
        return result
