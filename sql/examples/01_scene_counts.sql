-- How many scenes each dataset and split has, and how many are on disk.
SELECT dataset, split, count(*) AS scenes, sum(has_files) AS on_disk
FROM scenes GROUP BY dataset, split ORDER BY dataset, split;
