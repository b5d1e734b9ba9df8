-- Weekly insights made by the background round: a worker claims an ad
-- account's week before asking the model, so two workers never both write
-- it. A claim is taken when absent or when its lease (`claimed_until`) has
-- run out (the worker died or the store failed); it is kept afterwards, so a
-- worker that listed the account before the document was stored finds the
-- week taken.
--
-- The model's rolling conversation summaries: one row per summary the
-- model wrote, with its tokens, so the tenant's token usage counts them
-- (answers' tokens are on their messages, documents' on the document).

CREATE TABLE generated_insight_claims (
    tenant_id      uuid        NOT NULL,
    ad_account_id  uuid        NOT NULL,
    week_start     date        NOT NULL,
    claimed_until  timestamptz NOT NULL,
    CONSTRAINT generated_insight_claims_pkey PRIMARY KEY (tenant_id, ad_account_id, week_start),
    CONSTRAINT generated_insight_claims_ad_account_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);

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

-- The usage report reads each source by tenant and time.
CREATE INDEX conversation_summaries_created_idx ON conversation_summaries (tenant_id, created_at);
CREATE INDEX conversation_messages_created_idx ON conversation_messages (tenant_id, created_at);
CREATE INDEX generated_insights_created_idx ON generated_insights (tenant_id, created_at);
