-- The greenest cloud-free training pairs on disk, with their S1-S2 offset.
SELECT name, season, hemisphere, round(dt_hours, 2) AS dt_hours, round(cloud_fraction, 4) AS cloud,
       round(valid_fraction, 3) AS valid, round(ndvi_mean, 3) AS ndvi
FROM training_pairs WHERE cloud_fraction < 0.05
ORDER BY ndvi_mean DESC LIMIT 5;
