-- Suggestions; see migrations/postgres for the reasoning. Money is INTEGER
-- hundredths, the percent INTEGER ten-thousandths, dates `YYYY-MM-DD` text,
-- JSON is TEXT holding valid JSON.

CREATE TABLE suggestions (
    tenant_id       TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    ad_account_id   TEXT    NOT NULL,
    rule_id         TEXT    NOT NULL,
    rule_version    INTEGER NOT NULL,
    level           TEXT    NOT NULL CHECK (level IN ('campaign', 'ad_set', 'ad')),
    entity_id       TEXT    NOT NULL,
    entity_name     TEXT    NOT NULL,
    action          TEXT    NOT NULL
        CHECK (action IN ('PAUSE', 'BUDGET_UP', 'BUDGET_DOWN', 'NOTIFY')),
    action_percent  INTEGER,
    proposed_from   INTEGER,
    proposed_to     INTEGER,
    window_from     TEXT    NOT NULL,
    window_to       TEXT    NOT NULL,
    metrics         TEXT    NOT NULL CHECK (json_valid(metrics)),
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN
        ('PENDING', 'ACCEPTED', 'APPLIED', 'FAILED', 'REJECTED', 'EXPIRED')),
    created_at      TEXT    NOT NULL,
    decided_by      TEXT,
    decided_at      TEXT,
    reject_reason   TEXT,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT suggestions_window_key
        UNIQUE (tenant_id, rule_id, entity_id, window_from, window_to),
    CHECK (window_from <= window_to),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ad_account_id) REFERENCES ad_accounts (tenant_id, id)
        ON DELETE CASCADE
) STRICT;

CREATE INDEX suggestions_status_idx ON suggestions (tenant_id, status, id);
CREATE INDEX suggestions_account_idx ON suggestions (tenant_id, ad_account_id);
