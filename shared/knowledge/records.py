"""Knowledge-base records and the files they come from.

Two shapes are understood, found by content rather than by file name:

* our own records, ``{"claim", "verdict", "explanation", "source_url", "source_name",
  "domain"}``, one JSON object per line (JSONL);
* schema.org ``ClaimReview`` objects (what fact-checkers publish), one per line, or in
  a JSON document holding one of them, a list of them, or an object with the list
  under ``"@graph"`` or ``"claimReviews"``.

``read_records`` never stops at a bad record: each one comes back as a ``RecordError``
with its position (the line of a JSONL file, the 1-based item of a JSON document) and
the rest of the file is still read.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.hashing import canonical_text

MAX_URL_LENGTH = 2048
MAX_EXPLANATION_LENGTH = 2000

# Verdict labels of ClaimReview.reviewRating.alternateName, after _label().
TRUE_LABELS = frozenset(
    {"true", "correct", "accurate", "mostly true", "mostly correct", "mostly accurate"}
)
FALSE_LABELS = frozenset(
    {
        "false",
        "pants on fire",
        "incorrect",
        "inaccurate",
        "fake",
        "fake news",
        "fabricated",
        "mostly false",
        "hoax",
    }
)
# A rating given on a numeric scale must be this close to either end to count.
_TRUE_FROM = 0.75
_FALSE_UP_TO = 0.25
_WHITESPACE = re.compile(r"\s+")
_GRAPH_KEYS = ("@graph", "claimReviews")


class KbRecord(BaseModel):
    """One known claim, as stored in ``kb_claims``."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    claim: str = Field(min_length=3, max_length=1000)
    verdict: bool
    explanation: str = Field(min_length=1, max_length=MAX_EXPLANATION_LENGTH)
    source_url: str = Field(max_length=MAX_URL_LENGTH)
    source_name: str | None = Field(default=None, max_length=200)
    domain: str | None = Field(default=None, max_length=100)

    @field_validator("verdict", mode="before")
    @classmethod
    def _verdict(cls, value: object) -> bool:
        # Only a real boolean or the words true/false: pydantic's lax bool would also
        # take "yes", "0" or 1, which in a fact-check file is more likely a mistake.
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError('must be true or false (a boolean or the string "true"/"false")')

    @field_validator("source_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("source_name", "domain")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def key(self) -> str:
        return claim_key(self.claim)


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why one record of a file was rejected."""

    message: str


class KbFileError(ValueError):
    """The file as a whole cannot be read (not UTF-8, not JSON at all)."""


ReadResult = tuple[int, KbRecord | RecordError]


def claim_key(text: str) -> str:
    """SHA-256 hex of the claim with case, spacing and trailing punctuation ignored."""
    folded = canonical_text(text)
    end = len(folded)
    while end and (folded[end - 1].isspace() or unicodedata.category(folded[end - 1])[0] == "P"):
        end -= 1
    return hashlib.sha256(folded[:end].encode("utf-8")).hexdigest()


KB_SUFFIXES = (".jsonl", ".json")


def knowledge_files(path: Path) -> list[Path]:
    """``path`` itself, or for a folder every ``.jsonl``/``.json`` file under it, sorted
    (one file per domain is how the bundled base is kept)."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in KB_SUFFIXES)


def read_records(path: Path) -> Iterator[ReadResult]:
    """Every record of ``path`` as ``(position, KbRecord | RecordError)``.

    Raises ``OSError`` when the file cannot be opened and ``KbFileError`` when it is not
    UTF-8 text.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KbFileError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    yield from parse_text(text)


def parse_text(text: str) -> Iterator[ReadResult]:
    """``read_records`` on text already in memory."""
    document = _whole_document(text)
    if document is None:
        yield from _parse_lines(text)
    else:
        for index, item in _document_items(document):
            yield index, to_record(item)


def to_record(item: object) -> KbRecord | RecordError:
    """One JSON value, our record or a ClaimReview, as a record or the reason it is not."""
    if not isinstance(item, dict):
        return RecordError(f"expected a JSON object, got {type(item).__name__}")
    try:
        if _is_claim_review(item):
            return _from_claim_review(item)
        return KbRecord.model_validate(item)
    except ValidationError as exc:
        return RecordError(_describe(exc))
    except _Rejected as exc:
        return RecordError(str(exc))


# ---------------------------------------------------------------- file shapes


def _whole_document(text: str) -> Any:
    """The parsed JSON document when the whole text is one, else None (JSONL)."""
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if stripped.startswith("["):
            # A JSONL file never starts with an array, so this was meant as one document.
            raise KbFileError(
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        return None


def _document_items(document: Any) -> Iterator[tuple[int, Any]]:
    """(1-based position, item) of each record a JSON document holds."""
    if isinstance(document, dict):
        for key in _GRAPH_KEYS:
            nodes = document.get(key)
            if isinstance(nodes, list):
                document = nodes
                break
    if not isinstance(document, list):
        yield 1, document
        return
    for index, item in enumerate(document, start=1):
        # A JSON-LD graph also holds the publisher, the web page, …: only objects that
        # could be records count (a ClaimReview, or something without a @type).
        if isinstance(item, dict) and "@type" in item and not _is_claim_review(item):
            continue
        yield index, item


def json_lines(text: str) -> Iterator[tuple[int, Any]]:
    """JSON Lines: each non-blank line's number and value, or ``RecordError`` where the
    line is not JSON."""
    # Only "\n" ends a line: str.splitlines would also split at U+2028 and friends,
    # which JSON allows unescaped inside strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            item = RecordError(f"malformed JSON: {exc.msg} (column {exc.colno})")
        yield number, item


def _parse_lines(text: str) -> Iterator[ReadResult]:
    for number, item in json_lines(text):
        yield number, item if isinstance(item, RecordError) else to_record(item)


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "record"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


# ---------------------------------------------------------------- ClaimReview


class _Rejected(Exception):
    pass


def _is_claim_review(item: dict[str, Any]) -> bool:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "ClaimReview" in kinds or "claimReviewed" in item


def _from_claim_review(item: dict[str, Any]) -> KbRecord:
    rating = item.get("reviewRating")
    if not isinstance(rating, dict):
        raise _Rejected("ClaimReview has no reviewRating")
    if not _text(item.get("claimReviewed")):
        raise _Rejected("ClaimReview has no claimReviewed")
    if not _text(item.get("url")):
        raise _Rejected("ClaimReview has no url")
    verdict, rated_as = _verdict_of(rating)
    author = _name_of(item.get("author")) or None
    explanation = _text(item.get("reviewBody")) or _text(item.get("description"))
    if not explanation:
        explanation = f"Rated {rated_as}" + (f" by {author}" if author else "")
    return KbRecord(
        claim=_text(item.get("claimReviewed")),
        verdict=verdict,
        explanation=_shorten(explanation, MAX_EXPLANATION_LENGTH),
        source_url=_text(item.get("url")),
        source_name=author or _name_of(item.get("publisher")) or None,
    )


def _verdict_of(rating: dict[str, Any]) -> tuple[bool, str]:
    """(verdict, how it was rated) from a schema.org Rating."""
    name = _text(rating.get("alternateName"))
    label = _label(name)
    if label in TRUE_LABELS:
        return True, name
    if label in FALSE_LABELS:
        return False, name
    score = _normalised_score(rating)
    if score is not None and score >= _TRUE_FROM:
        return True, name or _score_text(rating)
    if score is not None and score <= _FALSE_UP_TO:
        return False, name or _score_text(rating)
    shown = name or _score_text(rating)
    if not shown:
        raise _Rejected("reviewRating has neither alternateName nor ratingValue")
    raise _Rejected(f"rating {shown!r} is neither true nor false")


def _label(name: str) -> str:
    kept = "".join(c if c.isalnum() else " " for c in name.casefold())
    return _WHITESPACE.sub(" ", kept).strip()


def _normalised_score(rating: dict[str, Any]) -> float | None:
    """ratingValue placed between worstRating (0) and bestRating (1), schema.org's
    defaults being 1 and 5; None when there is no usable number."""
    value = _number(rating.get("ratingValue"))
    worst = _number(rating.get("worstRating", 1))
    best = _number(rating.get("bestRating", 5))
    if value is None or worst is None or best is None or best == worst:
        return None
    score = (value - worst) / (best - worst)
    return score if 0.0 <= score <= 1.0 else None


def _score_text(rating: dict[str, Any]) -> str:
    value = _text(rating.get("ratingValue"))
    if not value:
        return ""
    best = _text(rating.get("bestRating")) or "5"
    return f"{value}/{best}"


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _name_of(party: object) -> str:
    """The name of a schema.org Person/Organization, a list of them, or a plain string."""
    if isinstance(party, str):
        return party.strip()
    if isinstance(party, dict):
        return _text(party.get("name"))
    if isinstance(party, list):
        for entry in party:
            if name := _name_of(entry):
                return name
    return ""


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _shorten(text: str, limit: int) -> str:
    """A long review body cut at a word boundary: it explains, it need not be whole."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip()
    return cut + "…"
