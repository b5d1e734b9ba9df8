-- Insight generation requested on demand; see migrations/postgres for the
-- reasoning. Dates are `YYYY-MM-DD` text, timestamps diesel's UTC text,
-- `insight_ids` a JSON array. One worker process takes queued jobs (no
-- SKIP LOCKED here).

CREATE TABLE insight_jobs (
    tenant_id      TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id             TEXT    NOT NULL,
    ad_account_id  TEXT,
    week_start     TEXT,
    status         TEXT    NOT NULL CHECK (status IN ('QUEUED', 'DONE', 'FAILED')),
    requested_by   TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    due_at         TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    finished_at    TEXT,
    insight_ids    TEXT    NOT NULL CHECK (json_valid(insight_ids)),
    failure        TEXT,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX insight_jobs_due_idx ON insight_jobs (due_at) WHERE status = 'QUEUED';
