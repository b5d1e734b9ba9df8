-- The assistant's conversations, visible to every member of the tenant.
-- `summary` folds the turns beyond the last ten (up to the message
-- `summarized_through`); the messages keep the figures an answer used
-- (`[{label, value, unit}]`, values as decimal strings), who answered
-- (`mode`), the intent and the model's tokens, and a member's flag.

CREATE TABLE conversations (
    tenant_id           uuid        NOT NULL,
    id                  uuid        NOT NULL,
    created_by          text        NOT NULL,
    title               text        NOT NULL,
    summary             text,
    summarized_through  uuid,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT conversations_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT conversations_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE TABLE conversation_messages (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL,
    conversation_id    uuid        NOT NULL,
    role               text        NOT NULL,
    content            text        NOT NULL,
    figures            json        NOT NULL,
    mode               text,
    intent             text,
    prompt_tokens      bigint      NOT NULL DEFAULT 0,
    completion_tokens  bigint      NOT NULL DEFAULT 0,
    flag_reason        text,
    flagged_at         timestamptz,
    created_at         timestamptz NOT NULL,
    CONSTRAINT conversation_messages_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT conversation_messages_role_check CHECK (role IN ('user', 'assistant')),
    CONSTRAINT conversation_messages_mode_check
        CHECK (mode IS NULL OR mode IN ('llm', 'built_in', 'unverified')),
    CONSTRAINT conversation_messages_tokens_check
        CHECK (prompt_tokens >= 0 AND completion_tokens >= 0),
    CONSTRAINT conversation_messages_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX conversation_messages_conversation_idx
    ON conversation_messages (tenant_id, conversation_id, id);
CREATE INDEX conversation_messages_flagged_idx
    ON conversation_messages (tenant_id, flagged_at) WHERE flag_reason IS NOT NULL;
