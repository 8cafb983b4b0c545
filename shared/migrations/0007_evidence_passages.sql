-- Open-world evidence: documents cut into passages, which the worker searches by
-- sentence embedding when no known claim covers a claim.
-- A document is identified by its url; content_hash = sha256 of its text
-- (shared/knowledge/documents.py): loading the same text again changes nothing, a changed
-- text replaces the document's passages. loaded_at moves whenever the row changes.
CREATE TABLE kb_documents (
    id            bigserial PRIMARY KEY,
    url           text NOT NULL UNIQUE,
    title         text NOT NULL,
    content_hash  char(64) NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);

-- Passages of a document in order (ordinal from 0); start_offset/end_offset are character
-- offsets into the document's text: text = document_text[start_offset:end_offset].
-- Rows are never updated: a changed document gets new passages (new ids).
CREATE TABLE kb_passages (
    id            bigserial PRIMARY KEY,
    document_id   bigint NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    ordinal       integer NOT NULL CHECK (ordinal >= 0),
    text          text NOT NULL,
    start_offset  integer NOT NULL CHECK (start_offset >= 0),
    end_offset    integer NOT NULL CHECK (end_offset > start_offset),
    UNIQUE (document_id, ordinal)
);

-- Sentence embeddings of the passages, per model (as kb_embeddings for claims). vector:
-- dim float32 values, little-endian. Deleted with their passage.
CREATE TABLE kb_passage_embeddings (
    passage_id  bigint NOT NULL REFERENCES kb_passages (id) ON DELETE CASCADE,
    model       text NOT NULL,
    dim         integer NOT NULL CHECK (dim > 0),
    vector      bytea NOT NULL CHECK (octet_length(vector) = 4 * dim),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (passage_id, model)
);
