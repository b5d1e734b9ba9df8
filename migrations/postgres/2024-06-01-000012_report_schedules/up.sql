-- Report schedules: a tenant's standing order for an ad account's report,
-- queued when the account's local `hour` comes (every day, on Mondays, or on
-- the 1st for the executive report). `last_run_on` is the local day it last
-- queued one; setting it and inserting the report happen in one transaction,
-- so two workers never queue the same day twice. A report remembers the
-- schedule that queued it (the channels are told when it is done).

CREATE TABLE report_schedules (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL,
    ad_account_id      uuid        NOT NULL,
    kind               text        NOT NULL,
    format             text        NOT NULL,
    decimal_separator  text        NOT NULL,
    hour               integer     NOT NULL,
    enabled            boolean     NOT NULL,
    last_run_on        date,
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT report_schedules_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT report_schedules_kind_check CHECK (kind IN ('daily', 'weekly', 'executive')),
    CONSTRAINT report_schedules_format_check CHECK (format IN ('csv', 'xlsx', 'pdf')),
    CONSTRAINT report_schedules_separator_check CHECK (decimal_separator IN ('point', 'comma')),
    CONSTRAINT report_schedules_hour_check CHECK (hour BETWEEN 0 AND 23),
    CONSTRAINT report_schedules_ad_account_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX report_schedules_enabled_idx ON report_schedules (id) WHERE enabled;

ALTER TABLE reports ADD COLUMN schedule_id uuid;
