"""Per-claim verdicts as PostgreSQL keeps them (``ai_results.claims``, jsonb).

One JSON array of ``ClaimVerdict`` objects, every field present (``null`` where unset),
the same values the cache entry and the ``result`` push carry. NULL (a task finished
before the column existed, a queued or failed one) reads as no claims.
"""

from __future__ import annotations

from typing import Any

import orjson

from .schemas import TextVerdict


def claims_value(verdict: TextVerdict) -> list[dict[str, Any]]:
    """``verdict``'s per-claim verdicts as JSON values."""
    return [claim.model_dump(mode="json") for claim in verdict.claims]


def claims_json(verdict: TextVerdict) -> str:
    """``claims_value`` as the text of a jsonb query parameter."""
    return orjson.dumps(claims_value(verdict)).decode()


def stored_claims(value: str | bytes | None) -> list[dict[str, Any]]:
    """An ``ai_results.claims`` column as asyncpg hands it over (jsonb text)."""
    decoded = orjson.loads(value) if value is not None else []
    return [c for c in decoded if isinstance(c, dict)] if isinstance(decoded, list) else []
