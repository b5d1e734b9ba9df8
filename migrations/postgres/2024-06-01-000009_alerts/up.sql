-- Alerts: each tenant's notification channels, the alert outbox and one
-- delivery row per alert and channel.
--
-- `notification_channels.target_sealed` is the channel's target (Slack
-- webhook URL, e-mail recipients, webhook URL and signing secret) as JSON
-- sealed with AES-256-GCM (APP_ENCRYPTION_KEY); `target_display` is what the
-- API shows instead (`https://hooks.slack.com/<redacted>`). `events` is a JSON
-- array of alert kinds (empty: every kind) and `min_severity` the lowest
-- severity sent (NULL: every severity). Deleting a channel only sets
-- `deleted_at`: its past deliveries stay readable.
--
-- `alerts` is the outbox: an alert is inserted in the same transaction as the
-- event it reports (a new suggestion, a failed sync, ...), together with one
-- `alert_deliveries` row per enabled, matching channel of its tenant. The
-- primary key (tenant_id, alert_id, channel_id) is the idempotency key: an
-- alert is delivered at most once per channel. Workers claim due rows
-- (`status = 'PENDING' AND next_attempt_at <= now`, lease expired) with
-- `FOR UPDATE SKIP LOCKED`, hold them until `claimed_until`, and record the
-- outcome (DELIVERED, a later `next_attempt_at`, or FAILED with `last_error`).

CREATE TABLE notification_channels (
    tenant_id       uuid        NOT NULL,
    id              uuid        NOT NULL,
    name            text        NOT NULL,
    kind            text        NOT NULL,
    target_sealed   bytea       NOT NULL,
    target_display  text        NOT NULL,
    events          json        NOT NULL,
    min_severity    text,
    enabled         boolean     NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    CONSTRAINT notification_channels_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT notification_channels_kind_check CHECK (kind IN ('slack', 'email', 'webhook')),
    CONSTRAINT notification_channels_min_severity_check
        CHECK (min_severity IN ('info', 'warning', 'critical')),
    CONSTRAINT notification_channels_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE TABLE alerts (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL,
    kind        text        NOT NULL,
    severity    text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    data        json        NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT alerts_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT alerts_severity_check CHECK (severity IN ('info', 'warning', 'critical')),
    CONSTRAINT alerts_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE INDEX alerts_kind_idx ON alerts (tenant_id, kind, id);

CREATE TABLE alert_deliveries (
    tenant_id        uuid        NOT NULL,
    alert_id         uuid        NOT NULL,
    channel_id       uuid        NOT NULL,
    status           text        NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    claimed_until    timestamptz,
    last_error       text,
    delivered_at     timestamptz,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT alert_deliveries_pkey PRIMARY KEY (tenant_id, alert_id, channel_id),
    CONSTRAINT alert_deliveries_status_check
        CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    CONSTRAINT alert_deliveries_attempts_check CHECK (attempts >= 0),
    CONSTRAINT alert_deliveries_alert_id_fkey FOREIGN KEY (tenant_id, alert_id)
        REFERENCES alerts (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT alert_deliveries_channel_id_fkey FOREIGN KEY (tenant_id, channel_id)
        REFERENCES notification_channels (tenant_id, id) ON DELETE CASCADE
);

-- What workers poll: pending rows by due time, across tenants.
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at)
    WHERE status = 'PENDING';
CREATE INDEX alert_deliveries_status_idx ON alert_deliveries (tenant_id, status, alert_id);
