DROP TABLE generated_insights;
