-- An organization's time zone (an IANA name such as `America/Sao_Paulo`):
-- the calendar of organization-wide reports and of schedules that say
-- "08:00 in the tenant's time zone". Existing organizations get UTC.

ALTER TABLE organizations ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';
