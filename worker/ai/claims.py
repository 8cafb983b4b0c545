"""Split a text into its claims: one per sentence, kept in order."""

from __future__ import annotations

import re

from shared.knowledge.chunking import is_abbreviation

# A sentence ends at . ! ? (or an ellipsis) followed by space and an upper-case letter,
# digit or quote; a line break always ends one. Abbreviations such as "Dr." or "U.S."
# (``is_abbreviation``) and decimals such as "3.14" do not end a sentence.
_BOUNDARY = re.compile(r"(?<=[.!?…])([\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z0-9]")
_LAST_TOKEN = re.compile(r"(\S+)[.!?…]*$")


def _ends_with_abbreviation(chunk: str) -> bool:
    match = _LAST_TOKEN.search(chunk.rstrip("\"'”’)]"))
    if not match:
        return False
    return is_abbreviation(match.group(1).rstrip(".").lower())


def split_claims(text: str, limit: int) -> list[str]:
    """The sentences of ``text`` that contain at least one word, at most ``limit``."""
    sentences: list[str] = []
    for line in text.splitlines():
        pending = ""
        start = 0
        for match in _BOUNDARY.finditer(line):
            chunk = pending + line[start : match.start()] + match.group(1)
            start = match.end()
            if _ends_with_abbreviation(chunk):
                pending = chunk + " "
                continue
            sentences.append(chunk)
            pending = ""
        sentences.append(pending + line[start:])
    claims = [" ".join(s.split()) for s in sentences if _WORD.search(s)]
    return claims[:limit]
