-- Organization reports; see migrations/postgres for the reasoning. SQLite
-- cannot drop NOT NULL in place, so both tables are rebuilt as they were
-- plus `currency`, with `ad_account_id` nullable.

CREATE TABLE reports_new (
    tenant_id          TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                 TEXT    NOT NULL,
    ad_account_id      TEXT,
    currency           TEXT,
    kind               TEXT    NOT NULL CHECK (kind IN ('daily', 'weekly', 'executive')),
    period_from        TEXT,
    period_to          TEXT,
    format             TEXT    NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
    decimal_separator  TEXT    NOT NULL CHECK (decimal_separator IN ('point', 'comma')),
    status             TEXT    NOT NULL CHECK (status IN ('QUEUED', 'DONE', 'FAILED', 'EXPIRED')),
    requested_by       TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    due_at             TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    finished_at        TEXT,
    file_name          TEXT,
    size_bytes         INTEGER,
    content            BLOB,
    expires_at         TEXT,
    failure            TEXT,
    schedule_id        TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ad_account_id) REFERENCES ad_accounts (tenant_id, id)
        ON DELETE CASCADE,
    CHECK (ad_account_id IS NULL OR currency IS NULL),
    CHECK ((period_from IS NULL) = (period_to IS NULL)
        AND (period_from IS NULL OR period_from <= period_to)),
    CHECK (status <> 'DONE' OR (content IS NOT NULL AND file_name IS NOT NULL
        AND expires_at IS NOT NULL))
) STRICT;

INSERT INTO reports_new (tenant_id, id, ad_account_id, kind, period_from, period_to,
    format, decimal_separator, status, requested_by, created_at, due_at, attempts,
    finished_at, file_name, size_bytes, content, expires_at, failure, schedule_id)
SELECT tenant_id, id, ad_account_id, kind, period_from, period_to,
    format, decimal_separator, status, requested_by, created_at, due_at, attempts,
    finished_at, file_name, size_bytes, content, expires_at, failure, schedule_id
FROM reports;
DROP TABLE reports;
ALTER TABLE reports_new RENAME TO reports;
CREATE INDEX reports_due_idx ON reports (due_at) WHERE status = 'QUEUED';
CREATE INDEX reports_expires_idx ON reports (expires_at) WHERE status = 'DONE';

CREATE TABLE report_schedules_new (
    tenant_id          TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                 TEXT    NOT NULL,
    ad_account_id      TEXT,
    currency           TEXT,
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
        ON DELETE CASCADE,
    CHECK (ad_account_id IS NULL OR currency IS NULL)
) STRICT;

INSERT INTO report_schedules_new (tenant_id, id, ad_account_id, kind, format,
    decimal_separator, hour, enabled, last_run_on, created_by, created_at)
SELECT tenant_id, id, ad_account_id, kind, format,
    decimal_separator, hour, enabled, last_run_on, created_by, created_at
FROM report_schedules;
DROP TABLE report_schedules;
ALTER TABLE report_schedules_new RENAME TO report_schedules;
CREATE INDEX report_schedules_enabled_idx ON report_schedules (id) WHERE enabled = 1;
