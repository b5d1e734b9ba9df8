DROP INDEX audit_log_actor_idx;
DROP INDEX audit_log_entity_idx;
DROP INDEX suggestions_apply_due_idx;
ALTER TABLE suggestions DROP COLUMN failure;
ALTER TABLE suggestions DROP COLUMN applied_at;
ALTER TABLE suggestions DROP COLUMN apply_attempts;
ALTER TABLE suggestions DROP COLUMN apply_due_at;
