-- API keys for platforms: "sm_live_<id>_<secret>". Only a hash of the secret is kept;
-- a key is found by its id (the public part of the prefix) and checked against the hash.
CREATE TABLE api_keys (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL,
    secret_hash   bytea NOT NULL,        -- sha256 of the secret (256 random bits: no KDF needed)
    scopes        text[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at DESC);
