-- Daily insights and the audit log. Money as INTEGER hundredths, dates as
-- TEXT 'YYYY-MM-DD' (sorts and compares like a date).

CREATE TABLE insights_daily (
    tenant_id      TEXT    NOT NULL,
    ad_account_id  TEXT    NOT NULL,
    level          TEXT    NOT NULL CHECK (level IN ('account', 'campaign', 'ad_set', 'ad')),
    entity_id      TEXT    NOT NULL,
    campaign_id    TEXT,
    date           TEXT    NOT NULL,
    impressions    INTEGER NOT NULL DEFAULT 0,
    clicks         INTEGER NOT NULL DEFAULT 0,
    link_clicks    INTEGER NOT NULL DEFAULT 0,
    spend          INTEGER NOT NULL DEFAULT 0,
    conversions    INTEGER NOT NULL DEFAULT 0,
    revenue        INTEGER NOT NULL DEFAULT 0,
    actions        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(actions)),
    updated_at     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, level, entity_id, date),
    FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX insights_daily_parent_idx ON insights_daily (tenant_id, ad_account_id, campaign_id, date);

CREATE TABLE audit_log (
    id           TEXT NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    before       TEXT CHECK (before IS NULL OR json_valid(before)),
    after        TEXT CHECK (after IS NULL OR json_valid(after)),
    PRIMARY KEY (tenant_id, id)
) STRICT;
