DROP TRIGGER ad_accounts_delete_facts ON ad_accounts;
DROP TRIGGER campaigns_delete_facts ON campaigns;
DROP FUNCTION delete_facts_of_ad_accounts();
DROP FUNCTION delete_facts_of_campaigns();
ALTER TABLE insights_daily
    ALTER COLUMN actions DROP DEFAULT,
    ALTER COLUMN actions TYPE jsonb USING actions::jsonb,
    ALTER COLUMN actions SET DEFAULT '[]'::jsonb;
ALTER TABLE kpi_weekly
    ADD CONSTRAINT kpi_weekly_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT kpi_weekly_campaign_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE;
ALTER TABLE kpi_daily
    ADD CONSTRAINT kpi_daily_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT kpi_daily_campaign_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE;
ALTER TABLE insights_daily
    ADD CONSTRAINT insights_daily_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT insights_daily_campaign_id_fkey FOREIGN KEY (tenant_id, ad_account_id, campaign_id)
        REFERENCES campaigns (tenant_id, ad_account_id, id) ON DELETE CASCADE;
