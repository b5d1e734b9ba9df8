-- Automation rules: each rule's current spec, and every version it has had so
-- a suggestion can always show the exact spec that made it.
--
-- `spec` is the whole validated spec as JSON, in the API's shape (decimals as
-- strings). `name`, `level`, `enabled` and `mode` repeat parts of it so the
-- evaluator can select rules without parsing JSON; they are written together
-- with `spec`, never on their own. `json` (not `jsonb`) keeps the text as
-- written. Deleting a rule only sets `deleted_at`: its versions stay for the
-- suggestions that name them.

CREATE TABLE rules (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL,
    version     integer     NOT NULL,
    name        text        NOT NULL,
    level       text        NOT NULL,
    spec        json        NOT NULL,
    enabled     boolean     NOT NULL,
    mode        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    CONSTRAINT rules_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT rules_version_check CHECK (version >= 1),
    CONSTRAINT rules_level_check CHECK (level IN ('campaign', 'ad_set', 'ad')),
    CONSTRAINT rules_mode_check CHECK (mode IN ('suggest', 'auto_apply')),
    CONSTRAINT rules_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE TABLE rule_versions (
    tenant_id   uuid        NOT NULL,
    rule_id     uuid        NOT NULL,
    version     integer     NOT NULL,
    spec        json        NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT rule_versions_pkey PRIMARY KEY (tenant_id, rule_id, version),
    CONSTRAINT rule_versions_rule_id_fkey FOREIGN KEY (tenant_id, rule_id)
        REFERENCES rules (tenant_id, id) ON DELETE CASCADE
);

-- Every organization starts with the seed rule (domain `RuleSpec::seed()`;
-- new ones get it when they are created). The JSON must stay equal to what
-- the seed serialises to: a test reads this row back and compares.
INSERT INTO rules (tenant_id, id, version, name, level, spec, enabled, mode, created_at, updated_at)
SELECT o.id, gen_random_uuid(), 1, 'Low CTR or high CPA', 'campaign',
       '{"name": "Low CTR or high CPA", "level": "campaign", "conditions": {"any": [{"metric": "ctr", "op": "lt", "value": "1"}, {"metric": "cpa", "op": "gt", "value": "50"}]}, "window_days": 3, "guards": {"min_impressions": 1000}, "action": {"type": "PAUSE"}, "schedule": "after_sync", "mode": "suggest", "enabled": true}'::json,
       true, 'suggest', now(), now()
FROM organizations o;

INSERT INTO rule_versions (tenant_id, rule_id, version, spec, created_at)
SELECT tenant_id, id, version, spec, created_at FROM rules;
