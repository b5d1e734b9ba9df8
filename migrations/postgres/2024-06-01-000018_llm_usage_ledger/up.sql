-- The model's token usage as a ledger: one row per model call's result (an
-- answer, a conversation summary, an insight document), written in the same
-- transaction as that result and kept when the result goes (a deleted
-- conversation, a regenerated document), so a tenant's usage never shrinks.
-- It replaces `conversation_summaries`, which only held summaries' tokens.
-- Existing tokens are carried over under their result's id.

CREATE TABLE llm_usage (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL,
    source             text        NOT NULL,
    prompt_tokens      bigint      NOT NULL,
    completion_tokens  bigint      NOT NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT llm_usage_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT llm_usage_source_check CHECK (source IN ('chat', 'insights')),
    CONSTRAINT llm_usage_tokens_check CHECK (prompt_tokens >= 0 AND completion_tokens >= 0),
    CONSTRAINT llm_usage_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

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
