"""textHash and summaryHash (DESIGN.md, "Hashes and cache").

textHash survives only whitespace and case; summaryHash survives cosmetic edits too
(markup, emphasis, punctuation), so a reformatted copy of a claim is still a cache hit.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
_HTML_TAG = re.compile(r"<[^<>]{0,500}>")


def _nfkc_fold(text: str) -> str:
    # casefold can leave non-normalised sequences (e.g. "ß" -> "ss" is fine, but some
    # compatibility characters reappear), so normalise on both sides.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def canonical_text(text: str) -> str:
    return _WHITESPACE.sub(" ", _nfkc_fold(text)).strip()


def _keeps_meaning(char: str) -> bool:
    # Letters, digits and combining marks carry meaning; marks matter for scripts such
    # as Devanagari, where vowel signs are category M, not L.
    return unicodedata.category(char)[0] in "LNM"


def canonical_summary(text: str) -> str:
    without_tags = _HTML_TAG.sub(" ", text)
    folded = _nfkc_fold(without_tags)
    kept = "".join(ch if _keeps_meaning(ch) else " " for ch in folded)
    return _WHITESPACE.sub(" ", kept).strip()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    return _sha256(canonical_text(text))


def summary_hash(text: str) -> str:
    return _sha256(canonical_summary(text))
