DROP TABLE kpi_weekly;
DROP TABLE kpi_daily;
DROP TABLE raw_payloads;
DROP TABLE sync_runs;
ALTER TABLE ad_accounts DROP COLUMN last_synced_at;
ALTER TABLE ad_accounts DROP COLUMN access_token_sealed;
