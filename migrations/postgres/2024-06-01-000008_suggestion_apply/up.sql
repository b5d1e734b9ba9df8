-- Applying accepted suggestions. An ACCEPTED suggestion is the apply job's
-- queue entry: `apply_due_at` is when a worker may take it next (set when it
-- is accepted; pushed forward while a worker holds it and after a retryable
-- failure), `apply_attempts` counts the tries. `applied_at` is when the
-- platform took the change; `failure` is why it did not (the last retryable
-- error while ACCEPTED, the final reason once FAILED).

ALTER TABLE suggestions
    ADD COLUMN apply_due_at   timestamptz,
    ADD COLUMN apply_attempts integer     NOT NULL DEFAULT 0,
    ADD COLUMN applied_at     timestamptz,
    ADD COLUMN failure        text;

CREATE INDEX suggestions_apply_due_idx ON suggestions (apply_due_at)
    WHERE status = 'ACCEPTED';

-- The audit log's filters: one entity's history, one person's actions.
CREATE INDEX audit_log_entity_idx ON audit_log (tenant_id, entity_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (tenant_id, actor, id);
