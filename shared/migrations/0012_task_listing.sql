-- GET /v1/tasks: a user's tasks newest first, a page at a time (keyset on the ULID id).
CREATE INDEX ai_results_user_id_desc ON ai_results (user_id, id DESC);
