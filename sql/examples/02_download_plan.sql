-- What is missing: scenes not on disk by split and land cover, to plan the next download.
SELECT split, landcover, count(*) AS missing
FROM scenes WHERE dataset = 'sen12tp' AND has_files = 0
GROUP BY split, landcover ORDER BY missing DESC LIMIT 8;
