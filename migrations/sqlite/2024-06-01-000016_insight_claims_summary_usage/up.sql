-- Insight claims and summary usage; see migrations/postgres for the reasoning.

CREATE TABLE generated_insight_claims (
    tenant_id      TEXT NOT NULL,
    ad_account_id  TEXT NOT NULL,
    week_start     TEXT NOT NULL,
    claimed_until  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, ad_account_id, week_start),
    FOREIGN KEY (tenant_id, ad_account_id) REFERENCES ad_accounts (tenant_id, id)
        ON DELETE CASCADE
) STRICT;

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
CREATE INDEX conversation_messages_created_idx ON conversation_messages (tenant_id, created_at);
CREATE INDEX generated_insights_created_idx ON generated_insights (tenant_id, created_at);
