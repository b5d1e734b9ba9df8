CREATE TABLE conversation_summaries (
    tenant_id          TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    conversation_id    TEXT    NOT NULL,
    prompt_tokens      INTEGER NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens  INTEGER NOT NULL CHECK (completion_tokens >= 0),
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
        ON DELETE CASCADE
) STRICT;
CREATE INDEX conversation_summaries_created_idx ON conversation_summaries (tenant_id, created_at);
DROP TABLE llm_usage;
