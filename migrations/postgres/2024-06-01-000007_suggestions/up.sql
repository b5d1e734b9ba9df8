-- Suggestions: one rule firing for one entity over one window, frozen with
-- the rule version, metrics and sentence that explain it.
--
-- At most one suggestion per rule, entity and window, whatever its state
-- (`suggestions_window_key`): a rejected suggestion is not made again for the
-- same window, and evaluating twice on the same day inserts nothing new.
-- `action_percent` keeps a budget action's percent so the rule's action reads
-- back whole; `proposed_from`/`proposed_to` are the concrete budget change
-- (NULL for PAUSE and NOTIFY). `metrics` is the window's snapshot in the API's
-- shape (decimals as strings). Deleting a rule only hides it, so the rule
-- foreign key cascades only with the organization.

CREATE TABLE suggestions (
    tenant_id       uuid          NOT NULL,
    id              uuid          NOT NULL,
    ad_account_id   uuid          NOT NULL,
    rule_id         uuid          NOT NULL,
    rule_version    integer       NOT NULL,
    level           text          NOT NULL,
    entity_id       uuid          NOT NULL,
    entity_name     text          NOT NULL,
    action          text          NOT NULL,
    action_percent  numeric(12,4),
    proposed_from   numeric(14,2),
    proposed_to     numeric(14,2),
    window_from     date          NOT NULL,
    window_to       date          NOT NULL,
    metrics         json          NOT NULL,
    reason          text          NOT NULL,
    status          text          NOT NULL,
    created_at      timestamptz   NOT NULL,
    decided_by      uuid,
    decided_at      timestamptz,
    reject_reason   text,
    CONSTRAINT suggestions_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT suggestions_window_key
        UNIQUE (tenant_id, rule_id, entity_id, window_from, window_to),
    CONSTRAINT suggestions_level_check CHECK (level IN ('campaign', 'ad_set', 'ad')),
    CONSTRAINT suggestions_action_check
        CHECK (action IN ('PAUSE', 'BUDGET_UP', 'BUDGET_DOWN', 'NOTIFY')),
    CONSTRAINT suggestions_status_check CHECK (status IN
        ('PENDING', 'ACCEPTED', 'APPLIED', 'FAILED', 'REJECTED', 'EXPIRED')),
    CONSTRAINT suggestions_window_check CHECK (window_from <= window_to),
    CONSTRAINT suggestions_rule_id_fkey FOREIGN KEY (tenant_id, rule_id)
        REFERENCES rules (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT suggestions_ad_account_id_fkey FOREIGN KEY (tenant_id, ad_account_id)
        REFERENCES ad_accounts (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX suggestions_status_idx ON suggestions (tenant_id, status, id);
CREATE INDEX suggestions_account_idx ON suggestions (tenant_id, ad_account_id);
