"""Does a known claim (the premise) entail or contradict the text's claim (hypothesis)?

``NliStance`` asks an MNLI-style sequence classifier (any id or local path). Where none
is configured, ``LexicalStance`` compares the two sentences word by word — negation,
antonyms, numbers and swapped names — and every verdict built on it says so and carries
a lower confidence: it cannot follow a paraphrase the way an NLI model does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from .wording import CLAUSE_BREAK, STOPWORDS, content_stems, numbers, stem, words

log = logging.getLogger(__name__)

Label = Literal["entails", "contradicts", "neutral"]
# Why the two sentences disagree: a flipped polarity ("is" / "is not") makes the claim
# the opposite of the known one; a swapped name or number only makes it different.
Conflict = Literal["negation", "antonym", "number", "name", ""]


@dataclass(frozen=True, slots=True)
class Stance:
    label: Label
    probability: float  # of ``label``, 0..1
    conflict: Conflict = ""
    method: Literal["nli", "lexical"] = "lexical"

    @property
    def is_opposite(self) -> bool:
        """The claim says the known claim is not so (rather than something else is)."""
        return self.label == "contradicts" and self.conflict in ("negation", "antonym", "")


class StanceModel(Protocol):
    name: str
    method: Literal["nli", "lexical"]

    def stances(self, pairs: list[tuple[str, str]]) -> list[Stance]: ...


# -- the word-level check ---------------------------------------------------------------

# A negation word negates the next content word ("does not *boil*"); a debunking word
# negates everything after it ("it is a myth that *bats* are *blind*").
_NEGATIONS = frozenset("not no never none nobody nothing neither nor nowhere".split())
# "legumes rather than nuts": what follows is denied.
_DENYING_PAIRS = frozenset({("rather", "than"), ("instead", "of")})
_DEBUNKING = frozenset("false untrue myth misconception hoax".split())
# "irrational" is "not rational", "infinitely" is "not finitely".
_NEGATING_PREFIXES = ("non", "dis", "un", "in", "ir", "im", "il")
_ANTONYMS = tuple(
    (frozenset(a.split("|")), frozenset(b.split("|")))
    for a, b in (
        ("true|correct|real", "false|wrong|fake"),
        ("only|merely", "more"),
        ("good|excellent|excelled|passed|succeeded", "bad|poor|failed|fail|fails"),
        ("visible", "invisible"),
        ("possible", "impossible"),
        ("more|greater|larger|bigger|higher|taller|longer|heavier|older|faster|warmer|hotter",
         "less|fewer|smaller|lower|shorter|lighter|younger|slower|cooler|colder"),
        ("most|largest|biggest|highest|tallest|longest|heaviest|oldest|fastest|hottest",
         "least|smallest|lowest|shortest|lightest|youngest|slowest|coldest"),
        ("increase|increases|raise|raises|rise|rises",
         "decrease|decreases|lower|lowers|fall|falls|reduce|reduces"),
        ("before|earlier", "after|later"),
        ("north|northern", "south|southern"),
        ("east|eastern", "west|western"),
        ("always", "never"),
        ("alive|living", "dead|extinct"),
        ("safe|harmless|healthy", "dangerous|harmful|unhealthy|toxic|poisonous"),
        ("cause|causes|caused", "prevent|prevents|prevented|cure|cures"),
        ("above", "below"),
        ("inside", "outside"),
        ("first", "last"),
        ("hot", "cold"),
        ("male", "female"),
        ("same", "different"),
        ("mammal|mammals", "fish|reptile|reptiles|bird|birds|insect|insects"),
    )
)  # fmt: skip
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)*")
# Nationality adjectives name no place of their own ("the French capital" is Paris).
_DEMONYM = re.compile(r"(?:ese|ian|ish|ch|an)$|^(?:greek|thai|swiss|arab|arabic)$")


def _names(sentence: str) -> set[str]:
    """Capitalised words after the first word (places, people, bodies), stemmed."""
    found = _CAPITALISED.findall(sentence)
    first = _CAPITALISED.match(sentence.lstrip("\"'“‘("))
    if first:
        found.remove(first.group(0))
    return {stem(w.lower()) for w in found if not _DEMONYM.search(w.lower())}


def _capitalised(sentence: str) -> set[str]:
    return {stem(w.lower()) for w in _CAPITALISED.findall(sentence)}


def _swapped_name(premise: str, hypothesis: str, known: set[str], claim: set[str]) -> bool:
    """One name put in another's place: "Sydney is …" against "Canberra is …"."""
    extra_names = _names(hypothesis) - known
    missing_names = _names(premise) - claim
    if extra_names and missing_names:
        return True
    extra, missing = claim - known, known - claim
    return (
        len(extra) == 1
        and len(missing) == 1
        and extra <= _capitalised(hypothesis)
        and missing <= _capitalised(premise)
    )


def _negated(tokens: list[str]) -> dict[str, bool]:
    """Each content word's stem, and whether a negation governs it: a negation reaches
    to the end of its clause ("does not have a single *blood vessel*, …")."""
    found: dict[str, bool] = {}
    negating = everything = False
    for token, after in zip(tokens, [*tokens[1:], ""], strict=True):
        if token == CLAUSE_BREAK:
            negating = False
        elif token in _DEBUNKING and after == "that":
            everything = True
        elif token in _NEGATIONS or (token, after) in _DENYING_PAIRS:
            negating = True
        elif token not in STOPWORDS and not token[0].isdigit():
            key = stem(token)
            found[key] = found.get(key, False) or negating or everything
    return found


def _polarity(tokens: list[str]) -> int:
    return sum(t in _NEGATIONS for t in tokens) % 2


def _negation_flip(claim_clauses: list[str], known_clauses: list[str]) -> bool:
    """One sentence negates what the other affirms.

    Decided on a word both share ("does not *cause*" against "*causes*") where there is
    one; else by the count of negations ("cannot see" against "is visible"). A word with
    a negating prefix counts as negated ("irrational" against "rational").
    """
    ours, theirs = _negated(claim_clauses), _negated(known_clauses)
    for a, b in ((ours, theirs), (theirs, ours)):
        for word in a:
            for prefix in _NEGATING_PREFIXES:
                if word.startswith(prefix) and word[len(prefix) :] in b:
                    return True
    shared = ours.keys() & theirs.keys()
    if any(ours[w] or theirs[w] for w in shared):
        return any(ours[w] != theirs[w] for w in shared)
    return _polarity(claim_clauses) != _polarity(known_clauses)


def _antonym_flip(claim: set[str], known: set[str]) -> bool:
    for left, right in _ANTONYMS:
        if (claim & left and known & right and not claim & right and not known & left) or (
            claim & right and known & left and not claim & left and not known & right
        ):
            return True
    return False


class LexicalStance:
    """The fallback when no NLI model is configured (see the module docstring)."""

    name = "word-level check"
    method: Literal["nli", "lexical"] = "lexical"

    def stances(self, pairs: list[tuple[str, str]]) -> list[Stance]:
        return [self.stance(premise, hypothesis) for premise, hypothesis in pairs]

    def stance(self, premise: str, hypothesis: str) -> Stance:
        known, claim = words(premise), words(hypothesis)
        known_set, claim_set = set(known), set(claim)
        known_numbers, claim_numbers = numbers(known), numbers(claim)
        if _negation_flip(words(hypothesis, clauses=True), words(premise, clauses=True)):
            return Stance("contradicts", 0.75, "negation")
        if _antonym_flip(claim_set, known_set):
            return Stance("contradicts", 0.65, "antonym")
        # Numbers conflict only when they count the same thing ("100 degrees" / "90
        # degrees", two bare years), not "90 minutes" against "an hour and a half".
        if any(
            known_numbers[unit].isdisjoint(claim_numbers[unit])
            for unit in known_numbers.keys() & claim_numbers.keys()
        ):
            return Stance("contradicts", 0.7, "number")
        if _swapped_name(premise, hypothesis, content_stems(known), content_stems(claim)):
            return Stance("contradicts", 0.6, "name")
        return Stance("entails", 0.7)


# -- the NLI model ------------------------------------------------------------------------

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


class NliStance:
    """An MNLI-style classifier: premise = the known claim, hypothesis = the text's claim."""

    method: Literal["nli", "lexical"] = "nli"

    def __init__(
        self,
        model_ref: str,
        *,
        device: torch.device,
        dtype: torch.dtype,
        local_only: bool,
        name: str | None = None,
        max_length: int = 256,
        batch_size: int = 64,
    ) -> None:
        self.name = name or model_ref
        self.device = device
        self.batch_size = batch_size
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_ref, local_files_only=local_only)
        model: Any = AutoModelForSequenceClassification.from_pretrained(
            model_ref, local_files_only=local_only, dtype=dtype
        )
        self.model = model.to(device).eval()
        self.columns = label_columns(dict(model.config.id2label))
        self.max_length = min(max_length, int(self.tokenizer.model_max_length or max_length))
        # The word-level check tells a negation from a swapped name, which NLI does not.
        self._words = LexicalStance()

    @torch.inference_mode()
    def probabilities(self, pairs: list[tuple[str, str]]) -> torch.Tensor:
        """(n, labels) softmax probabilities, computed in chunks of ``batch_size``."""
        out = []
        for start in range(0, len(pairs), self.batch_size):
            chunk = pairs[start : start + self.batch_size]
            enc = self.tokenizer(
                [p for p, _ in chunk],
                [h for _, h in chunk],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            logits = self.model(**enc).logits.float()
            out.append(torch.softmax(logits, dim=-1).cpu())
        return torch.cat(out) if out else torch.zeros((0, len(self.columns)))

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
