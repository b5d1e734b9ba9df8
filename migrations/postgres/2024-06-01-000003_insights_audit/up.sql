-- Daily insights (silver, upserted by sync) and the audit log.

CREATE TABLE insights_daily (
    tenant_id      uuid          NOT NULL,
    ad_account_id  uuid          NOT NULL,
    level          text          NOT NULL,
    entity_id      uuid          NOT NULL,
    campaign_id    uuid,
    date           date          NOT NULL,
    impressions    bigint        NOT NULL DEFAULT 0,
    clicks         bigint        NOT NULL DEFAULT 0,
    link_clicks    bigint        NOT NULL DEFAULT 0,
    spend          numeric(14,2) NOT NULL DEFAULT 0,
    conversions    bigint        NOT NULL DEFAULT 0,
    revenue        numeric(14,2) NOT NULL DEFAULT 0,
    actions        jsonb         NOT NULL DEFAULT '[]'::jsonb,
    updated_at     timestamptz   NOT NULL,
    CONSTRAINT insights_daily_pkey PRIMARY KEY (tenant_id, level, entity_id, date),
    CONSTRAINT insights_daily_level_check CHECK (level IN ('account', 'campaign', 'ad_set', 'ad')),
    CONSTRAINT insights_daily_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    -- Rows of campaign level and below go with their campaign (NULL: account level).
    CONSTRAINT insights_daily_campaign_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE
);
-- Serves both cascades (account, campaign) and per-account date scans.
CREATE INDEX insights_daily_parent_idx ON insights_daily (tenant_id, ad_account_id, campaign_id, date);

CREATE TABLE audit_log (
    id           uuid        NOT NULL,
    tenant_id    uuid        NOT NULL,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL,
    action       text        NOT NULL,
    entity_type  text        NOT NULL,
    entity_id    text        NOT NULL,
    before       jsonb,
    after        jsonb,
    CONSTRAINT audit_log_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT audit_log_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
