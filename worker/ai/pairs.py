"""Sentence pairs for training the stance head, generated from the knowledge base.

Each known claim is the premise; each recipe writes a hypothesis whose relation to it is
known by construction:

* entails: the claim as people type it (lower case, a "fun fact:" or "lol", no
  apostrophes, "roughly" for "about"), or another known claim with the same verdict
  that says the same thing (a near-duplicate found by embedding);
* contradicts: a negation added or removed, a number changed, a name replaced by
  another claim's name;
* neutral: two names trading roles, a quantifier added or changed ("all", "only",
  "some"), or a related known claim that says something else.

The recipes are general (no evaluation text is read), so what the head learns is how
these edits look, not how any test set is worded.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

import torch

Label = Literal["entails", "contradicts", "neutral"]
LABELS: tuple[Label, ...] = ("entails", "contradicts", "neutral")


@dataclass(frozen=True, slots=True)
class Pair:
    premise: str
    hypothesis: str
    label: Label
    recipe: str


_PREFIXES = (
    "fun fact: ", "did you know ", "apparently ", "my teacher said ", "ngl ", "btw ",
    "just learned that ", "so basically ", "FYI ", "reminder: ", "TIL ", "my dad says ",
)  # fmt: skip
_SUFFIXES = (" lol", "!!", " 😂", " 🤯", " wow", " right?", " fr", " ...", " 🙏", " btw")
_LOOSE = {
    "about": ("roughly", "around", "approximately", "like"),
    "approximately": ("about", "roughly", "around"),
    "largest": ("biggest",),
    "biggest": ("largest",),
    "children": ("kids",),
    "people": ("folks",),
    "very": ("really", "super"),
}
_AUX = re.compile(r"\b(is|are|was|were|can|could|will|has|have|had|does|do|did|should)\b")
_NOT = re.compile(r"\s+(?:not|never)\b|n't\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NAME = re.compile(r"(?<=\s)[A-Z][a-z]{2,}(?:\s[A-Z][a-z]{2,})*")
_QUANTIFIERS = ("all", "only", "some", "always", "most", "never")


def _noisy(claim: str, rng: random.Random) -> str:
    text = claim
    words = text.split()
    for i, word in enumerate(words):
        options = _LOOSE.get(word.lower())
        if options and rng.random() < 0.7:
            words[i] = rng.choice(options)
    text = " ".join(words)
    if rng.random() < 0.5:
        text = text.rstrip(".")
    if rng.random() < 0.4:
        text = text[:1].lower() + text[1:]
    if rng.random() < 0.3:
        text = text.replace("'", "").replace("’", "")
    if rng.random() < 0.4:
        text = rng.choice(_PREFIXES) + text[:1].lower() + text[1:]
    if rng.random() < 0.3:
        text = text.rstrip(".") + rng.choice(_SUFFIXES)
    return text


def _negated(claim: str, rng: random.Random) -> str | None:
    if _NOT.search(claim):
        return _NOT.sub("", claim, count=1)
    match = _AUX.search(claim)
    if match:
        word = rng.choice(("not", "never")) if match.group(1) in ("has", "have") else "not"
        return f"{claim[: match.end()]} {word}{claim[match.end() :]}"
    return None


def _renumbered(claim: str, rng: random.Random) -> str | None:
    found = list(_NUMBER.finditer(claim))
    if not found:
        return None
    match = rng.choice(found)
    value = float(match.group(0).replace(",", ""))
    new = value * rng.choice((2, 3, 10, 0.5)) + rng.choice((0, 1, 7))
    text = str(int(new)) if new.is_integer() else f"{new:.1f}"
    return claim[: match.start()] + text + claim[match.end() :]


def _renamed(claim: str, names: list[str], rng: random.Random) -> str | None:
    found = _NAME.findall(claim)
    if not found or not names:
        return None
    old = rng.choice(found)
    new = rng.choice(names)
    return None if new == old or new in claim else claim.replace(old, new, 1)


def _roles_swapped(claim: str) -> str | None:
    found = list(dict.fromkeys(_NAME.findall(claim)))
    if len(found) < 2:
        return None
    a, b = found[0], found[-1]
    return claim.replace(a, "\0").replace(b, a).replace("\0", b)


def _requantified(claim: str, rng: random.Random) -> str:
    lower = claim[:1].lower() + claim[1:]
    for word in _QUANTIFIERS:
        if re.search(rf"\b{word}\b", lower, re.I):
            other = rng.choice([q for q in _QUANTIFIERS if q != word and q != "never"])
            return re.sub(rf"\b{word}\b", other, claim, count=1, flags=re.I)
    quantifier = rng.choice(("All", "Only", "Some"))
    return f"{quantifier} {lower}"


def generate_pairs(
    claims: list[str],
    verdicts: list[bool],
    vectors: torch.Tensor,
    *,
    seed: int = 0,
) -> list[Pair]:
    """Pairs from every claim by every recipe that applies (see the module docstring).
    ``vectors``: the claims' L2-normalised embeddings, to find related claims."""
    rng = random.Random(seed)
    names = sorted({n for c in claims for n in _NAME.findall(c)})
    pairs: list[Pair] = []
    sims = vectors @ vectors.T
    sims.fill_diagonal_(-1.0)
    top = torch.topk(sims, min(8, max(1, len(claims) - 1)), dim=1)
    for i, claim in enumerate(claims):
        pairs.append(Pair(claim, _noisy(claim, rng), "entails", "noise"))
        pairs.append(Pair(claim, _noisy(claim, rng), "entails", "noise"))
        for text, label, recipe in (
            (_negated(claim, rng), "contradicts", "negation"),
            (_renumbered(claim, rng), "contradicts", "number"),
            (_renamed(claim, names, rng), "contradicts", "name"),
            (_roles_swapped(claim), "neutral", "role"),
            (_requantified(claim, rng), "neutral", "quantifier"),
        ):
            if text and text != claim:
                noisy = _noisy(text, rng) if rng.random() < 0.5 else text
                pairs.append(Pair(claim, noisy, label, recipe))  # type: ignore[arg-type]
        for sim, j in zip(top.values[i].tolist(), top.indices[i].tolist(), strict=True):
            other = claims[j]
            if sim >= 0.93 and verdicts[i] == verdicts[j]:
                pairs.append(Pair(claim, other, "entails", "near-duplicate"))
            elif 0.5 <= sim < 0.85 and rng.random() < 0.4:
                pairs.append(Pair(claim, other, "neutral", "related"))
    rng.shuffle(pairs)
    return pairs
