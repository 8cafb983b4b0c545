-- Refresh tokens of auth_service (auth_service/refresh.py), rotated on every use.
-- A family is the chain of refresh tokens descended from one login (or registration).
-- Revoking it (logout, or a rotated token presented again: theft) ends every token of
-- the chain at once, those issued later included, as each use checks its family.
CREATE TABLE refresh_families (
    id          text PRIMARY KEY,                         -- ULID
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,                     -- that of its newest token
    revoked_at  timestamptz
);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

CREATE TABLE refresh_tokens (
    token_hash  char(64) PRIMARY KEY,                     -- SHA-256 hex, never the token
    family_id   text NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz                               -- exchanged for its successor
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
