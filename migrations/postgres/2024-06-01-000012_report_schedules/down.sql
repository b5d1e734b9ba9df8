ALTER TABLE reports DROP COLUMN schedule_id;
DROP TABLE report_schedules;
