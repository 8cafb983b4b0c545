"""The checks a text passes before the model: one that fails them is failed at once
(``WK-INPUT-*``), never retried and never judged."""

from __future__ import annotations

from shared.text import TextProblem, check_text

from .ai.language import LanguageGate


def check_input(text: str, max_chars: int, languages: LanguageGate) -> tuple[str, str] | None:
    """(errorCode, message) when ``text`` cannot be judged at all; None when it can."""
    problem = check_text(text, max_chars)
    if problem is TextProblem.EMPTY:
        return "WK-INPUT-EMPTY", "The text is empty, so there is nothing to check."
    if problem is TextProblem.TOO_LONG:
        return (
            "WK-INPUT-TOO-LONG",
            f"The text has {len(text)} characters; at most {max_chars} can be checked.",
        )
    if problem is TextProblem.BINARY:
        return "WK-INPUT-BINARY", "The text contains control or binary characters."
    language = languages.unsupported(text)
    if language:
        return "WK-INPUT-LANGUAGE", languages.refusal(language)
    return None
