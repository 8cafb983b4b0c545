-- Users of auth_service.
CREATE TABLE users (
    id             text PRIMARY KEY,
    email          text NOT NULL,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- One row per task (spec: ai_results). status: queued -> done | failed.
CREATE TABLE ai_results (
    id              text PRIMARY KEY,               -- taskId (ULID)
    user_id         text NOT NULL,
    text_hash       char(64) NOT NULL,
    summary_hash    char(64) NOT NULL,
    payload         text NOT NULL,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'done', 'failed')),
    mark            text CHECK (mark IN ('Correct', 'Incorrect', 'Insufficient', 'Subjective')),
    reason          text,
    confidence      smallint CHECK (confidence BETWEEN 0 AND 100),
    cached          boolean NOT NULL DEFAULT false,  -- answered from cache, no job ran
    job_token_hash  char(64),                        -- sha256 of the job_token, never the token
    error_code      text,
    error_message   text,
    model           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);
CREATE INDEX ai_results_user_created ON ai_results (user_id, created_at DESC);
CREATE INDEX ai_results_text_hash ON ai_results (text_hash);
CREATE INDEX ai_results_queued ON ai_results (created_at) WHERE status = 'queued';
