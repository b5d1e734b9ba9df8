-- Alerts; see migrations/postgres for the reasoning. JSON is TEXT holding
-- valid JSON, booleans are 0/1, timestamps are diesel's UTC text, the sealed
-- target a BLOB. One worker process claims deliveries (no SKIP LOCKED here).

CREATE TABLE notification_channels (
    tenant_id       TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('slack', 'email', 'webhook')),
    target_sealed   BLOB    NOT NULL,
    target_display  TEXT    NOT NULL,
    events          TEXT    NOT NULL CHECK (json_valid(events)),
    min_severity    TEXT    CHECK (min_severity IN ('info', 'warning', 'critical')),
    enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    deleted_at      TEXT,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE alerts (
    tenant_id   TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    severity    TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    data        TEXT    NOT NULL CHECK (json_valid(data)),
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX alerts_kind_idx ON alerts (tenant_id, kind, id);

CREATE TABLE alert_deliveries (
    tenant_id        TEXT    NOT NULL,
    alert_id         TEXT    NOT NULL,
    channel_id       TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TEXT    NOT NULL,
    claimed_until    TEXT,
    last_error       TEXT,
    delivered_at     TEXT,
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, alert_id, channel_id),
    FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES notification_channels (tenant_id, id)
        ON DELETE CASCADE
) STRICT;

CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at)
    WHERE status = 'PENDING';
CREATE INDEX alert_deliveries_status_idx ON alert_deliveries (tenant_id, status, alert_id);
