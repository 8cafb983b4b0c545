-- result_receiver prunes delivered outbox rows older than a week every relay round
-- (result_receiver/outbox.py, _PRUNE): without an index on delivered_at that was a scan
-- of every row kept (a week of two rows per task) every two seconds.
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
