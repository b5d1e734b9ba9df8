-- The model's token usage as a ledger; see migrations/postgres for the
-- reasoning. Timestamps are diesel's UTC text.

CREATE TABLE llm_usage (
    tenant_id          TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                 TEXT    NOT NULL,
    source             TEXT    NOT NULL CHECK (source IN ('chat', 'insights')),
    prompt_tokens      INTEGER NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens  INTEGER NOT NULL CHECK (completion_tokens >= 0),
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX llm_usage_created_idx ON llm_usage (tenant_id, created_at);

INSERT INTO llm_usage (tenant_id, id, source, prompt_tokens, completion_tokens, created_at)
SELECT tenant_id, id, 'chat', prompt_tokens, completion_tokens, created_at
FROM conversation_messages WHERE prompt_tokens > 0 OR completion_tokens > 0
UNION ALL
SELECT tenant_id, id, 'chat', prompt_tokens, completion_tokens, created_at
FROM conversation_summaries WHERE prompt_tokens > 0 OR completion_tokens > 0
UNION ALL
SELECT tenant_id, id, 'insights', prompt_tokens, completion_tokens, created_at
FROM generated_insights WHERE prompt_tokens > 0 OR completion_tokens > 0;

DROP TABLE conversation_summaries;
