-- Report schedules; see migrations/postgres for the reasoning.

CREATE TABLE report_schedules (
    tenant_id          TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    ad_account_id      TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('daily', 'weekly', 'executive')),
    format             TEXT    NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
    decimal_separator  TEXT    NOT NULL CHECK (decimal_separator IN ('point', 'comma')),
    hour               INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    enabled            INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    last_run_on        TEXT,
    created_by         TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ad_account_id) REFERENCES ad_accounts (tenant_id, id)
        ON DELETE CASCADE
) STRICT;

CREATE INDEX report_schedules_enabled_idx ON report_schedules (id) WHERE enabled = 1;

ALTER TABLE reports ADD COLUMN schedule_id TEXT;
