-- Ads tree; see migrations/postgres for the reasoning behind the composite keys.
-- Money is INTEGER hundredths (1234.50 is stored as 123450) so sums are exact.
-- JSON is TEXT holding valid JSON.

CREATE TABLE ad_accounts (
    id           TEXT NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    platform     TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    timezone     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED', 'NEEDS_REAUTH')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ad_accounts_external_id_key UNIQUE (tenant_id, platform, external_id)
) STRICT;
CREATE INDEX ad_accounts_status_idx ON ad_accounts (tenant_id, status, id);

CREATE TABLE campaigns (
    id               TEXT NOT NULL,
    tenant_id        TEXT NOT NULL,
    ad_account_id    TEXT NOT NULL,
    external_id      TEXT,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED')),
    objective        TEXT,
    daily_budget     INTEGER,
    lifetime_budget  INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT campaigns_account_key UNIQUE (tenant_id, ad_account_id, id),
    FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX campaigns_external_id_key ON campaigns (tenant_id, ad_account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX campaigns_status_idx ON campaigns (tenant_id, status, id);

CREATE TABLE ad_sets (
    id                 TEXT NOT NULL,
    tenant_id          TEXT NOT NULL,
    ad_account_id      TEXT NOT NULL,
    campaign_id        TEXT NOT NULL,
    external_id        TEXT,
    name               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED')),
    daily_budget       INTEGER,
    lifetime_budget    INTEGER,
    optimization_goal  TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT ad_sets_parent_key UNIQUE (tenant_id, ad_account_id, campaign_id, id),
    FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX ad_sets_external_id_key ON ad_sets (tenant_id, ad_account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX ad_sets_campaign_idx ON ad_sets (tenant_id, campaign_id, id);
CREATE INDEX ad_sets_status_idx ON ad_sets (tenant_id, status, id);

CREATE TABLE ads (
    id             TEXT NOT NULL,
    tenant_id      TEXT NOT NULL,
    ad_account_id  TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    ad_set_id      TEXT NOT NULL,
    external_id    TEXT,
    name           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED')),
    targeting      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(targeting)),
    creative       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(creative)),
    performance    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(performance)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ad_account_id, campaign_id, ad_set_id)
        REFERENCES ad_sets (tenant_id, ad_account_id, campaign_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX ads_external_id_key ON ads (tenant_id, ad_account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX ads_parent_idx ON ads (tenant_id, ad_account_id, campaign_id, ad_set_id);
CREATE INDEX ads_ad_set_idx ON ads (tenant_id, ad_set_id, id);
CREATE INDEX ads_campaign_idx ON ads (tenant_id, campaign_id, id);
CREATE INDEX ads_status_idx ON ads (tenant_id, status, id);
