-- Requested reports. A QUEUED row is the report job's queue entry: `due_at`
-- is when a worker may take it next (pushed forward while a worker holds it
-- and after a retryable failure), `attempts` counts the tries. A DONE row
-- holds the rendered file in `content` until `expires_at`, when the file is
-- deleted and the row becomes EXPIRED (kept, so the list stays honest).
-- `period_from`/`period_to` are the days asked for, or those resolved when
-- the report was built.

CREATE TABLE reports (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL,
    ad_account_id      uuid        NOT NULL,
    kind               text        NOT NULL,
    period_from        date,
    period_to          date,
    format             text        NOT NULL,
    decimal_separator  text        NOT NULL,
    status             text        NOT NULL,
    requested_by       text        NOT NULL,
    created_at         timestamptz NOT NULL,
    due_at             timestamptz,
    attempts           integer     NOT NULL DEFAULT 0,
    finished_at        timestamptz,
    file_name          text,
    size_bytes         bigint,
    content            bytea,
    expires_at         timestamptz,
    failure            text,
    CONSTRAINT reports_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT reports_kind_check CHECK (kind IN ('daily', 'weekly', 'executive')),
    CONSTRAINT reports_format_check CHECK (format IN ('csv', 'xlsx', 'pdf')),
    CONSTRAINT reports_separator_check CHECK (decimal_separator IN ('point', 'comma')),
    CONSTRAINT reports_status_check CHECK (status IN ('QUEUED', 'DONE', 'FAILED', 'EXPIRED')),
    CONSTRAINT reports_period_check CHECK ((period_from IS NULL) = (period_to IS NULL)
        AND (period_from IS NULL OR period_from <= period_to)),
    CONSTRAINT reports_done_check CHECK (status <> 'DONE' OR (content IS NOT NULL
        AND file_name IS NOT NULL AND expires_at IS NOT NULL)),
    CONSTRAINT reports_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT reports_ad_account_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX reports_due_idx ON reports (due_at) WHERE status = 'QUEUED';
CREATE INDEX reports_expires_idx ON reports (expires_at) WHERE status = 'DONE';
