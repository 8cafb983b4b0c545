-- The per-claim verdicts a task's verdict was derived from (shared/schemas.py:
-- ClaimVerdict), as a JSON array, written in the same UPDATE as the verdict itself.
-- '[]' for a result without claims; NULL for queued and failed tasks and for rows
-- finished before this column existed (read as no claims).
-- The outbox's 'cache' payload's "verdict" (0003) may carry the same "claims" array.
ALTER TABLE ai_results ADD COLUMN claims jsonb
    CHECK (claims IS NULL OR jsonb_typeof(claims) = 'array');
