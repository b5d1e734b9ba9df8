-- Insight generation requested on demand. A QUEUED row is the insight
-- job's queue entry: `due_at` is when a worker may take it next (pushed
-- forward while a worker holds it and after a retryable failure),
-- `attempts` counts the tries. `week_start` is the Monday of the ISO week
-- asked for (NULL: each account's last whole week), `ad_account_id` the
-- one account asked for (NULL: all of them); it has no foreign key, so a
-- job whose account was deleted stays, and fails. `insight_ids` is the
-- JSON array of the documents a DONE job stored.

CREATE TABLE insight_jobs (
    tenant_id      uuid        NOT NULL,
    id             uuid        NOT NULL,
    ad_account_id  uuid,
    week_start     date,
    status         text        NOT NULL,
    requested_by   text        NOT NULL,
    created_at     timestamptz NOT NULL,
    due_at         timestamptz,
    attempts       integer     NOT NULL DEFAULT 0,
    finished_at    timestamptz,
    insight_ids    json        NOT NULL,
    failure        text,
    CONSTRAINT insight_jobs_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT insight_jobs_status_check CHECK (status IN ('QUEUED', 'DONE', 'FAILED')),
    CONSTRAINT insight_jobs_week_check CHECK (week_start IS NULL
        OR extract(isodow FROM week_start) = 1),
    CONSTRAINT insight_jobs_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE INDEX insight_jobs_due_idx ON insight_jobs (due_at) WHERE status = 'QUEUED';
