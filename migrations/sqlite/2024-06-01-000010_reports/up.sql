-- Requested reports; see migrations/postgres for the reasoning. Dates are
-- `YYYY-MM-DD` text, timestamps diesel's UTC text, the file a BLOB. One
-- worker process takes queued reports (no SKIP LOCKED here).

CREATE TABLE reports (
    tenant_id          TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                 TEXT    NOT NULL,
    ad_account_id      TEXT    NOT NULL,
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
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ad_account_id) REFERENCES ad_accounts (tenant_id, id)
        ON DELETE CASCADE,
    CHECK ((period_from IS NULL) = (period_to IS NULL)
        AND (period_from IS NULL OR period_from <= period_to)),
    CHECK (status <> 'DONE' OR (content IS NOT NULL AND file_name IS NOT NULL
        AND expires_at IS NOT NULL))
) STRICT;

CREATE INDEX reports_due_idx ON reports (due_at) WHERE status = 'QUEUED';
CREATE INDEX reports_expires_idx ON reports (expires_at) WHERE status = 'DONE';
