-- Idempotency-Key on POST /v1/verify: the first answer per (caller, key) for 24 hours.
-- A row without status_code is a request still in flight.
CREATE TABLE idempotency_keys (
    user_id      text NOT NULL,
    key          text NOT NULL,
    body_hash    char(64) NOT NULL,      -- sha256 of the text submitted
    status_code  smallint,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
