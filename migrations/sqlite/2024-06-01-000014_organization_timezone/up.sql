-- An organization's time zone; see migrations/postgres for the reasoning.

ALTER TABLE organizations ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
