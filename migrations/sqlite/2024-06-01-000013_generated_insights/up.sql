-- Generated insights; see migrations/postgres for the reasoning.

CREATE TABLE generated_insights (
    tenant_id          TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    ad_account_id      TEXT    NOT NULL,
    week_start         TEXT    NOT NULL,
    week_end           TEXT    NOT NULL,
    headline           TEXT    NOT NULL,
    findings           TEXT    NOT NULL CHECK (json_valid(findings)),
    actions            TEXT    NOT NULL CHECK (json_valid(actions)),
    mode               TEXT    NOT NULL CHECK (mode IN ('llm', 'built_in', 'unverified')),
    verified           INTEGER NOT NULL CHECK (verified IN (0, 1)),
    prompt_tokens      INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, ad_account_id, week_start),
    FOREIGN KEY (tenant_id, ad_account_id) REFERENCES ad_accounts (tenant_id, id)
        ON DELETE CASCADE
) STRICT;
