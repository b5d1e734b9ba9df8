-- Applying accepted suggestions (see the PostgreSQL twin for the meaning of
-- each column). Timestamps are RFC 3339 text like the rest of the schema.

ALTER TABLE suggestions ADD COLUMN apply_due_at TEXT;
ALTER TABLE suggestions ADD COLUMN apply_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE suggestions ADD COLUMN applied_at TEXT;
ALTER TABLE suggestions ADD COLUMN failure TEXT;

CREATE INDEX suggestions_apply_due_idx ON suggestions (apply_due_at)
    WHERE status = 'ACCEPTED';

CREATE INDEX audit_log_entity_idx ON audit_log (tenant_id, entity_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (tenant_id, actor, id);
