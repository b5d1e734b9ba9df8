-- Generated insights: one document per tenant, ad account and ISO week
-- (`week_start` is its Monday, `week_end` its Sunday); generating again
-- replaces the row (delete and insert in one transaction, so the id
-- changes). Findings are JSON `[{title, detail, figures: [{label, value,
-- unit}]}]` with values as decimal strings; actions JSON `[string]`.

CREATE TABLE generated_insights (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL,
    ad_account_id      uuid        NOT NULL,
    week_start         date        NOT NULL,
    week_end           date        NOT NULL,
    headline           text        NOT NULL,
    findings           json        NOT NULL,
    actions            json        NOT NULL,
    mode               text        NOT NULL,
    verified           boolean     NOT NULL,
    prompt_tokens      bigint      NOT NULL DEFAULT 0,
    completion_tokens  bigint      NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL,
    CONSTRAINT generated_insights_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT generated_insights_week_key UNIQUE (tenant_id, ad_account_id, week_start),
    CONSTRAINT generated_insights_mode_check CHECK (mode IN ('llm', 'built_in', 'unverified')),
    CONSTRAINT generated_insights_week_check CHECK (week_end = week_start + 6),
    CONSTRAINT generated_insights_tokens_check
        CHECK (prompt_tokens >= 0 AND completion_tokens >= 0),
    CONSTRAINT generated_insights_ad_account_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);
