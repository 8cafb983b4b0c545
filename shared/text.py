"""What counts as a checkable text, decided in one place.

The gateway (schema), backend_service (before a task exists) and the worker (before its
model) each refuse the same texts with their own errorCode; the limit is one setting.
"""

from __future__ import annotations

import re
from enum import StrEnum

# Default of GATEWAY_/BACKEND_/WORKER_MAX_TEXT_CHARS and AI_MAX_PAYLOAD_CHARS.
MAX_TEXT_CHARS = 20_000

# NUL and other C0/C1 controls (tab, newlines, vertical tab and form feed are text), DEL,
# and lone surrogates (undecodable bytes): not something a person wrote. Written as
# regex escapes, so the same text serves Python and the OpenAPI (ECMA) pattern.
_CONTROL_CHARS = r"\x00-\x08\x0e-\x1f\x7f-\x9f"
_NON_TEXT = re.compile(f"[{_CONTROL_CHARS}\ud800-\udfff]")
# What the public schema documents (the backend enforces it: 400 BE-VAL-400). Lone
# surrogates are left out: a JSON text only carries them as broken escapes, and regex
# engines without UTF-16 (JSON Schema validators in Rust) refuse the range.
TEXT_PATTERN = f"^[^{_CONTROL_CHARS}]*$"


class TextProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    BINARY = "binary"


def check_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> TextProblem | None:
    """Why ``text`` cannot be checked at all, or None when it can."""
    if not text.strip():
        return TextProblem.EMPTY
    if len(text) > max_chars:
        return TextProblem.TOO_LONG
    if _NON_TEXT.search(text):
        return TextProblem.BINARY
    return None
