-- result_receiver forgets finished webhook deliveries older than RECEIVER_WEBHOOK_KEEP_S
-- (30 days) once a minute (result_receiver/webhook_dispatch.py, _PRUNE); the index keeps
-- that from scanning every delivery kept.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at)
    WHERE status <> 'pending';
