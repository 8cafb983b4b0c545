-- A task's stages, oldest first: [{"stage": "accepted", "at": "<ISO time>", ...}, ...]
-- (shared/tasks.py appends them in the statements that move the task on, so a stage
-- costs no statement of its own where one runs anyway). Stages: accepted, queued
-- (requeued: true when the sweeper put a lost job back), joined (leader), started
-- (worker, attempt), retried (worker, attempt, reason), done (cached: true for a cache
-- hit) or failed (errorCode), notified (live: pushed to at least one socket, or false:
-- logged for replay). Rows of before this column read as having none.
ALTER TABLE ai_results ADD COLUMN stages jsonb NOT NULL DEFAULT '[]'::jsonb;
