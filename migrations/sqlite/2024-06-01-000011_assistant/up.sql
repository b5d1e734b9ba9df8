-- The assistant's conversations; see migrations/postgres for the reasoning.
-- Figures are JSON text, timestamps diesel's UTC text.

CREATE TABLE conversations (
    tenant_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                  TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    title               TEXT NOT NULL,
    summary             TEXT,
    summarized_through  TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE conversation_messages (
    tenant_id          TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    conversation_id    TEXT    NOT NULL,
    role               TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content            TEXT    NOT NULL,
    figures            TEXT    NOT NULL CHECK (json_valid(figures)),
    mode               TEXT    CHECK (mode IS NULL OR mode IN ('llm', 'built_in', 'unverified')),
    intent             TEXT,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    flag_reason        TEXT,
    flagged_at         TEXT,
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
        ON DELETE CASCADE
) STRICT;

CREATE INDEX conversation_messages_conversation_idx
    ON conversation_messages (tenant_id, conversation_id, id);
CREATE INDEX conversation_messages_flagged_idx
    ON conversation_messages (tenant_id, flagged_at) WHERE flag_reason IS NOT NULL;
