ALTER TABLE organizations DROP COLUMN timezone;
