-- Outbound webhooks: each final outcome of a user's task is POSTed to their endpoints,
-- signed per Standard Webhooks. A delivery row is written in the transaction that
-- records the outcome (shared/events.py), and sent by result_receiver's dispatcher.
CREATE TABLE webhooks (
    id               text PRIMARY KEY,
    user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url              text NOT NULL,
    events           text[] NOT NULL,
    secret           text NOT NULL,          -- whsec_<base64>: both sides must know it
    created_at       timestamptz NOT NULL DEFAULT now(),
    failing_since    timestamptz,            -- first failure since the last success
    disabled_at      timestamptz,
    disabled_reason  text
);
CREATE INDEX webhooks_by_user ON webhooks (user_id) WHERE disabled_at IS NULL;

CREATE TABLE webhook_deliveries (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the webhook-id header: the same on every retry, so receivers can deduplicate
    id               text NOT NULL UNIQUE
                     DEFAULT ('msg_' || replace(gen_random_uuid()::text, '-', '')),
    webhook_id       text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type       text NOT NULL,
    task_id          text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status      integer,                -- the endpoint's HTTP status, if it answered
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq DESC);
