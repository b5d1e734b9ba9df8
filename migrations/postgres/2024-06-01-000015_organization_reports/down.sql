DELETE FROM reports WHERE ad_account_id IS NULL;
DELETE FROM report_schedules WHERE ad_account_id IS NULL;
ALTER TABLE report_schedules DROP CONSTRAINT report_schedules_tenant_id_fkey;
ALTER TABLE report_schedules DROP CONSTRAINT report_schedules_scope_check;
ALTER TABLE report_schedules DROP COLUMN currency;
ALTER TABLE report_schedules ALTER COLUMN ad_account_id SET NOT NULL;
ALTER TABLE reports DROP CONSTRAINT reports_scope_check;
ALTER TABLE reports DROP COLUMN currency;
ALTER TABLE reports ALTER COLUMN ad_account_id SET NOT NULL;
