CREATE TABLE conversation_summaries (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL,
    conversation_id    uuid        NOT NULL,
    prompt_tokens      bigint      NOT NULL,
    completion_tokens  bigint      NOT NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT conversation_summaries_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT conversation_summaries_tokens_check
        CHECK (prompt_tokens >= 0 AND completion_tokens >= 0),
    CONSTRAINT conversation_summaries_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_summaries_created_idx ON conversation_summaries (tenant_id, created_at);
DROP TABLE llm_usage;
