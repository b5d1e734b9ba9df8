DROP TABLE audit_log;
DROP TABLE insights_daily;
