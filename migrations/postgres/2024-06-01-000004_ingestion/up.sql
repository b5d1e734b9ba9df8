-- Ingestion: sealed platform tokens, sync runs (the job history), bronze raw
-- pages and gold KPI tables. Silver is the ads tree and insights_daily.

-- AES-256-GCM sealed access token (nonce || ciphertext); never returned by the API.
ALTER TABLE ad_accounts ADD COLUMN access_token_sealed bytea;
ALTER TABLE ad_accounts ADD COLUMN last_synced_at timestamptz;

CREATE TABLE sync_runs (
    id            uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    ad_account_id uuid        NOT NULL,
    kind          text        NOT NULL,
    status        text        NOT NULL,
    range_from    date        NOT NULL,
    range_to      date        NOT NULL,
    queued_at     timestamptz NOT NULL,
    started_at    timestamptz,
    finished_at   timestamptz,
    campaigns     bigint      NOT NULL DEFAULT 0,
    ad_sets       bigint      NOT NULL DEFAULT 0,
    ads           bigint      NOT NULL DEFAULT 0,
    insights      bigint      NOT NULL DEFAULT 0,
    rows_changed  bigint      NOT NULL DEFAULT 0,
    api_calls     bigint      NOT NULL DEFAULT 0,
    attempts      integer     NOT NULL DEFAULT 0,
    error         text,
    CONSTRAINT sync_runs_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT sync_runs_kind_check CHECK (kind IN ('scheduled', 'manual', 'lookback', 'import')),
    CONSTRAINT sync_runs_status_check CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT sync_runs_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);
-- One platform sync per account at a time: a second request gets the first run.
CREATE UNIQUE INDEX sync_runs_one_active_key ON sync_runs (tenant_id, ad_account_id)
    WHERE status IN ('queued', 'running') AND kind <> 'import';
CREATE INDEX sync_runs_account_idx ON sync_runs (tenant_id, ad_account_id, id);
CREATE INDEX sync_runs_unfinished_idx ON sync_runs (queued_at)
    WHERE status IN ('queued', 'running');

-- Bronze: each page as received. The body is kept as the exact text (the
-- adapter has already parsed it; `payload::json` queries it), compressed with
-- lz4, which costs a tenth of json validation + pglz per page.
CREATE TABLE raw_payloads (
    id            uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    ad_account_id uuid        NOT NULL,
    sync_run_id   uuid        NOT NULL,
    endpoint      text        NOT NULL,
    params        json        NOT NULL,
    payload       text        COMPRESSION lz4 NOT NULL,
    fetched_at    timestamptz NOT NULL,
    CONSTRAINT raw_payloads_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT raw_payloads_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX raw_payloads_run_idx ON raw_payloads (tenant_id, sync_run_id);
CREATE INDEX raw_payloads_fetched_idx ON raw_payloads (fetched_at);

-- Gold: KPIs per campaign and per ad account, by day and by ISO week
-- (period_start is the day, or the Monday of the week).
CREATE TABLE kpi_daily (
    tenant_id     uuid          NOT NULL,
    ad_account_id uuid          NOT NULL,
    level         text          NOT NULL,
    entity_id     uuid          NOT NULL,
    campaign_id   uuid,
    period_start  date          NOT NULL,
    impressions   bigint        NOT NULL,
    clicks        bigint        NOT NULL,
    link_clicks   bigint        NOT NULL,
    spend         numeric(14,2) NOT NULL,
    conversions   bigint        NOT NULL,
    revenue       numeric(14,2) NOT NULL,
    ctr           numeric(12,4),
    cpc           numeric(14,2),
    cpm           numeric(14,2),
    cpa           numeric(14,2),
    roas          numeric(12,4),
    updated_at    timestamptz   NOT NULL,
    CONSTRAINT kpi_daily_pkey PRIMARY KEY (tenant_id, level, entity_id, period_start),
    CONSTRAINT kpi_daily_level_check CHECK (level IN ('account', 'campaign')),
    CONSTRAINT kpi_daily_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT kpi_daily_campaign_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE
);
CREATE INDEX kpi_daily_account_idx ON kpi_daily (tenant_id, ad_account_id, campaign_id, period_start);

CREATE TABLE kpi_weekly (LIKE kpi_daily INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE kpi_weekly ADD CONSTRAINT kpi_weekly_pkey PRIMARY KEY (tenant_id, level, entity_id, period_start);
ALTER TABLE kpi_weekly ADD CONSTRAINT kpi_weekly_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
    REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE kpi_weekly ADD CONSTRAINT kpi_weekly_campaign_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
    REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE;
CREATE INDEX kpi_weekly_account_idx ON kpi_weekly (tenant_id, ad_account_id, campaign_id, period_start);
