DROP TABLE rule_versions;
DROP TABLE rules;
