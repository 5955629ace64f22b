-- Files and metadata the last ingests could not use.
SELECT path, stage, message FROM ingest_errors ORDER BY path LIMIT 10;
