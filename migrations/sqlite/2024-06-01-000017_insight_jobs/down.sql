DROP TABLE insight_jobs;
