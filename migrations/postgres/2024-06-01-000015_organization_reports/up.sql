-- Organization reports: a report or schedule without an ad account covers
-- the organization's ad accounts of one currency — `currency`, or the one
-- they all use when it is NULL (amounts in different currencies are never
-- added up). An account's report keeps its ad account (and no currency).
-- A schedule now also belongs to its organization directly (it may have no
-- account to cascade through).

ALTER TABLE reports ALTER COLUMN ad_account_id DROP NOT NULL;
ALTER TABLE reports ADD COLUMN currency text;
ALTER TABLE reports ADD CONSTRAINT reports_scope_check
    CHECK (ad_account_id IS NULL OR currency IS NULL);

ALTER TABLE report_schedules ALTER COLUMN ad_account_id DROP NOT NULL;
ALTER TABLE report_schedules ADD COLUMN currency text;
ALTER TABLE report_schedules ADD CONSTRAINT report_schedules_scope_check
    CHECK (ad_account_id IS NULL OR currency IS NULL);
ALTER TABLE report_schedules ADD CONSTRAINT report_schedules_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES organizations (id) ON DELETE CASCADE;
