-- Automation rules; see migrations/postgres for the reasoning. JSON is TEXT
-- holding valid JSON, booleans are 0/1, timestamps are diesel's UTC text.

CREATE TABLE rules (
    tenant_id   TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    name        TEXT    NOT NULL,
    level       TEXT    NOT NULL CHECK (level IN ('campaign', 'ad_set', 'ad')),
    spec        TEXT    NOT NULL CHECK (json_valid(spec)),
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    mode        TEXT    NOT NULL CHECK (mode IN ('suggest', 'auto_apply')),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    deleted_at  TEXT,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE rule_versions (
    tenant_id   TEXT    NOT NULL,
    rule_id     TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    spec        TEXT    NOT NULL CHECK (json_valid(spec)),
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, version),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Every organization starts with the seed rule (domain `RuleSpec::seed()`);
-- the JSON must stay equal to what the seed serialises to (tested). The id is
-- a random version-4 UUID in the hyphenated lower-case form ids are stored in.
INSERT INTO rules (tenant_id, id, version, name, level, spec, enabled, mode, created_at, updated_at)
SELECT o.id,
       lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
           || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-'
           || lower(hex(randomblob(6))),
       1, 'Low CTR or high CPA', 'campaign',
       '{"name": "Low CTR or high CPA", "level": "campaign", "conditions": {"any": [{"metric": "ctr", "op": "lt", "value": "1"}, {"metric": "cpa", "op": "gt", "value": "50"}]}, "window_days": 3, "guards": {"min_impressions": 1000}, "action": {"type": "PAUSE"}, "schedule": "after_sync", "mode": "suggest", "enabled": true}',
       1, 'suggest',
       strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
FROM organizations o;

INSERT INTO rule_versions (tenant_id, rule_id, version, spec, created_at)
SELECT tenant_id, id, version, spec, created_at FROM rules;
