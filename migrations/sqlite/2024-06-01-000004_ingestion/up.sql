-- Ingestion; see migrations/postgres for the reasoning. Money is INTEGER
-- hundredths, ratios (ctr, roas) INTEGER ten-thousandths, dates TEXT.

ALTER TABLE ad_accounts ADD COLUMN access_token_sealed BLOB;
ALTER TABLE ad_accounts ADD COLUMN last_synced_at TEXT;

CREATE TABLE sync_runs (
    id            TEXT    NOT NULL,
    tenant_id     TEXT    NOT NULL,
    ad_account_id TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('scheduled', 'manual', 'lookback', 'import')),
    status        TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    range_from    TEXT    NOT NULL,
    range_to      TEXT    NOT NULL,
    queued_at     TEXT    NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    campaigns     INTEGER NOT NULL DEFAULT 0,
    ad_sets       INTEGER NOT NULL DEFAULT 0,
    ads           INTEGER NOT NULL DEFAULT 0,
    insights      INTEGER NOT NULL DEFAULT 0,
    rows_changed  INTEGER NOT NULL DEFAULT 0,
    api_calls     INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX sync_runs_one_active_key ON sync_runs (tenant_id, ad_account_id)
    WHERE status IN ('queued', 'running') AND kind <> 'import';
CREATE INDEX sync_runs_account_idx ON sync_runs (tenant_id, ad_account_id, id);
CREATE INDEX sync_runs_unfinished_idx ON sync_runs (queued_at)
    WHERE status IN ('queued', 'running');

CREATE TABLE raw_payloads (
    id            TEXT NOT NULL,
    tenant_id     TEXT NOT NULL,
    ad_account_id TEXT NOT NULL,
    sync_run_id   TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    params        TEXT NOT NULL,
    payload       TEXT NOT NULL,
    fetched_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX raw_payloads_run_idx ON raw_payloads (tenant_id, sync_run_id);
CREATE INDEX raw_payloads_fetched_idx ON raw_payloads (fetched_at);

CREATE TABLE kpi_daily (
    tenant_id     TEXT    NOT NULL,
    ad_account_id TEXT    NOT NULL,
    level         TEXT    NOT NULL CHECK (level IN ('account', 'campaign')),
    entity_id     TEXT    NOT NULL,
    campaign_id   TEXT,
    period_start  TEXT    NOT NULL,
    impressions   INTEGER NOT NULL,
    clicks        INTEGER NOT NULL,
    link_clicks   INTEGER NOT NULL,
    spend         INTEGER NOT NULL,
    conversions   INTEGER NOT NULL,
    revenue       INTEGER NOT NULL,
    ctr           INTEGER,
    cpc           INTEGER,
    cpm           INTEGER,
    cpa           INTEGER,
    roas          INTEGER,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, level, entity_id, period_start),
    FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX kpi_daily_account_idx ON kpi_daily (tenant_id, ad_account_id, campaign_id, period_start);

CREATE TABLE kpi_weekly (
    tenant_id     TEXT    NOT NULL,
    ad_account_id TEXT    NOT NULL,
    level         TEXT    NOT NULL CHECK (level IN ('account', 'campaign')),
    entity_id     TEXT    NOT NULL,
    campaign_id   TEXT,
    period_start  TEXT    NOT NULL,
    impressions   INTEGER NOT NULL,
    clicks        INTEGER NOT NULL,
    link_clicks   INTEGER NOT NULL,
    spend         INTEGER NOT NULL,
    conversions   INTEGER NOT NULL,
    revenue       INTEGER NOT NULL,
    ctr           INTEGER,
    cpc           INTEGER,
    cpm           INTEGER,
    cpa           INTEGER,
    roas          INTEGER,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, level, entity_id, period_start),
    FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX kpi_weekly_account_idx ON kpi_weekly (tenant_id, ad_account_id, campaign_id, period_start);
