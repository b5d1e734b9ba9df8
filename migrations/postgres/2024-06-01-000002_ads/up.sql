-- Ads: ad accounts -> campaigns -> ad sets -> ads, all tenant-owned.
--
-- Keys lead with tenant_id (rows of one tenant can be distributed together).
-- Children reference their parents through composite keys that include
-- tenant_id and every ancestor id, so a campaign can never point at another
-- tenant's ad account, nor an ad at an ad set of another campaign. Deleting a
-- parent deletes its subtree.

CREATE TABLE ad_accounts (
    id           uuid        NOT NULL,
    tenant_id    uuid        NOT NULL,
    platform     text        NOT NULL,
    external_id  text        NOT NULL,
    name         text        NOT NULL,
    currency     char(3)     NOT NULL,
    timezone     text        NOT NULL,
    status       text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT ad_accounts_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT ad_accounts_external_id_key UNIQUE (tenant_id, platform, external_id),
    CONSTRAINT ad_accounts_status_check CHECK (status IN ('ACTIVE', 'DISABLED', 'NEEDS_REAUTH')),
    CONSTRAINT ad_accounts_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX ad_accounts_status_idx ON ad_accounts (tenant_id, status, id);

CREATE TABLE campaigns (
    id               uuid          NOT NULL,
    tenant_id        uuid          NOT NULL,
    ad_account_id    uuid          NOT NULL,
    external_id      text,
    name             text          NOT NULL,
    status           text          NOT NULL,
    objective        text,
    daily_budget     numeric(14,2),
    lifetime_budget  numeric(14,2),
    created_at       timestamptz   NOT NULL,
    updated_at       timestamptz   NOT NULL,
    CONSTRAINT campaigns_pkey PRIMARY KEY (tenant_id, id),
    -- Target of the ad sets' key; doubles as the "campaigns of an account" index.
    CONSTRAINT campaigns_account_key UNIQUE (tenant_id, ad_account_id, id),
    CONSTRAINT campaigns_status_check CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED')),
    CONSTRAINT campaigns_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX campaigns_external_id_key ON campaigns (tenant_id, ad_account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX campaigns_status_idx ON campaigns (tenant_id, status, id);

CREATE TABLE ad_sets (
    id                 uuid          NOT NULL,
    tenant_id          uuid          NOT NULL,
    ad_account_id      uuid          NOT NULL,
    campaign_id        uuid          NOT NULL,
    external_id        text,
    name               text          NOT NULL,
    status             text          NOT NULL,
    daily_budget       numeric(14,2),
    lifetime_budget    numeric(14,2),
    optimization_goal  text,
    created_at         timestamptz   NOT NULL,
    updated_at         timestamptz   NOT NULL,
    CONSTRAINT ad_sets_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT ad_sets_parent_key UNIQUE (tenant_id, ad_account_id, campaign_id, id),
    CONSTRAINT ad_sets_status_check CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED')),
    CONSTRAINT ad_sets_campaign_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ad_sets_external_id_key ON ad_sets (tenant_id, ad_account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX ad_sets_campaign_idx ON ad_sets (tenant_id, campaign_id, id);
CREATE INDEX ad_sets_status_idx ON ad_sets (tenant_id, status, id);

CREATE TABLE ads (
    id             uuid        NOT NULL,
    tenant_id      uuid        NOT NULL,
    ad_account_id  uuid        NOT NULL,
    campaign_id    uuid        NOT NULL,
    ad_set_id      uuid        NOT NULL,
    external_id    text,
    name           text        NOT NULL,
    status         text        NOT NULL,
    targeting      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    creative       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    performance    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT ads_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT ads_status_check CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED')),
    CONSTRAINT ads_ad_set_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id, ad_set_id)
        REFERENCES ad_sets (tenant_id, ad_account_id, campaign_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ads_external_id_key ON ads (tenant_id, ad_account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX ads_parent_idx ON ads (tenant_id, ad_account_id, campaign_id, ad_set_id);
CREATE INDEX ads_ad_set_idx ON ads (tenant_id, ad_set_id, id);
CREATE INDEX ads_campaign_idx ON ads (tenant_id, campaign_id, id);
CREATE INDEX ads_status_idx ON ads (tenant_id, status, id);
CREATE INDEX ads_targeting_gin ON ads USING gin (targeting);
