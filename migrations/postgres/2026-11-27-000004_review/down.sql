DROP TABLE job_runs;
DROP TABLE digests;
DROP TABLE suggestion_events;
DROP TABLE suggestions;
DROP TABLE matching_runs;
