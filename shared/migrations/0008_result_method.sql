-- How a task's verdict was reached (shared/schemas.py: TextVerdict.method), said once
-- for the whole result, written in the same UPDATE as the verdict itself.
-- NULL when the worker gave none, for queued and failed tasks and for rows finished
-- before this column existed.
-- The outbox's 'cache' payload's "verdict" (0003) may carry the same "method".
ALTER TABLE ai_results ADD COLUMN method text;
