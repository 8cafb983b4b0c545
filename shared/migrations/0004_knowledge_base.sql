-- The fact-check knowledge base the worker searches: known claims with a true/false
-- verdict, a one-sentence explanation and the source that settled it.
-- claim_key = sha256 of the normalised claim (shared/knowledge/records.py: claim_key):
-- loading the same claim again updates its row instead of adding a second one.
CREATE TABLE kb_claims (
    id           bigserial PRIMARY KEY,
    claim        text NOT NULL,
    claim_key    char(64) NOT NULL UNIQUE,
    verdict      text NOT NULL CHECK (verdict IN ('true', 'false')),
    explanation  text NOT NULL,
    source_url   text NOT NULL,
    source_name  text,
    domain       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Sentence embeddings of the claims, per model, so a worker need not re-embed the whole
-- knowledge base at every start. vector: dim float32 values, little-endian. Rows are
-- deleted when their claim's text or verdict changes.
CREATE TABLE kb_embeddings (
    claim_id    bigint NOT NULL REFERENCES kb_claims (id) ON DELETE CASCADE,
    model       text NOT NULL,
    dim         integer NOT NULL CHECK (dim > 0),
    vector      bytea NOT NULL CHECK (octet_length(vector) = 4 * dim),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (claim_id, model)
);
