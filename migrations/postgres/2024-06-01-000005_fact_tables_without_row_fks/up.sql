-- The fact tables (silver insights_daily, gold kpi_daily / kpi_weekly) take
-- about a million rows per 10 accounts × 90 days, and a per-row foreign-key
-- check cost as much PostgreSQL CPU as the insert itself (two RI lookups per
-- row). Every writer already resolves the parents in the same statement
-- (the sync's upserts JOIN ads / campaigns, the roll-up and gold read
-- insights_daily, the seeder's upsert checks its references first), so the
-- checks bought nothing but time. What the keys also did, cascading deletes,
-- is kept by the statement-level triggers below: one DELETE per statement,
-- not one per row.
ALTER TABLE insights_daily
    DROP CONSTRAINT insights_daily_ad_account_id_fkey,
    DROP CONSTRAINT insights_daily_campaign_id_fkey;
ALTER TABLE kpi_daily
    DROP CONSTRAINT kpi_daily_ad_account_id_fkey,
    DROP CONSTRAINT kpi_daily_campaign_id_fkey;
ALTER TABLE kpi_weekly
    DROP CONSTRAINT kpi_weekly_ad_account_id_fkey,
    DROP CONSTRAINT kpi_weekly_campaign_id_fkey;

-- Meta's `actions` list is kept as received (`json`, validated text): `jsonb`
-- parsed and re-encoded every row on write, ~4 µs a row, for a column that
-- is read whole.
ALTER TABLE insights_daily
    ALTER COLUMN actions DROP DEFAULT,
    ALTER COLUMN actions TYPE json USING actions::json,
    ALTER COLUMN actions SET DEFAULT '[]'::json;

CREATE FUNCTION delete_facts_of_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM insights_daily f USING gone g
        WHERE f.tenant_id = g.tenant_id AND f.ad_account_id = g.ad_account_id
          AND f.campaign_id = g.id;
    DELETE FROM kpi_daily f USING gone g
        WHERE f.tenant_id = g.tenant_id AND f.ad_account_id = g.ad_account_id
          AND f.campaign_id = g.id;
    DELETE FROM kpi_weekly f USING gone g
        WHERE f.tenant_id = g.tenant_id AND f.ad_account_id = g.ad_account_id
          AND f.campaign_id = g.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION delete_facts_of_ad_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM insights_daily f USING gone g
        WHERE f.tenant_id = g.tenant_id AND f.ad_account_id = g.id;
    DELETE FROM kpi_daily f USING gone g
        WHERE f.tenant_id = g.tenant_id AND f.ad_account_id = g.id;
    DELETE FROM kpi_weekly f USING gone g
        WHERE f.tenant_id = g.tenant_id AND f.ad_account_id = g.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER campaigns_delete_facts AFTER DELETE ON campaigns
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION delete_facts_of_campaigns();
CREATE TRIGGER ad_accounts_delete_facts AFTER DELETE ON ad_accounts
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION delete_facts_of_ad_accounts();
