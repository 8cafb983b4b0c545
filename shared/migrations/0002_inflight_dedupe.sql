-- A task whose text was already being verified joins that job instead of queuing its
-- own: it has no job_token of its own and takes the leader's outcome.
ALTER TABLE ai_results ADD COLUMN joined_task_id text REFERENCES ai_results (id);
CREATE INDEX ai_results_joined_queued ON ai_results (joined_task_id) WHERE status = 'queued';
