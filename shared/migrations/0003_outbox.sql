-- Transactional outbox of result_receiver: what Redis must be told about a stored
-- outcome, written in the same transaction as the outcome itself, so that a crash
-- between PostgreSQL and Redis is repaired by relaying the undelivered rows.
--   kind 'cache':  payload {"text_hash", "summary_hash", "verdict": {mark, reason, confidence}}
--   kind 'notify': payload {"user_id", "event"}
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    task_id       text NOT NULL REFERENCES ai_results (id),
    kind          text NOT NULL CHECK (kind IN ('cache', 'notify')),
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_task ON outbox (task_id);
