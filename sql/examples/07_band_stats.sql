-- Exact per-band statistics: the S2 red and NIR bands of the first scenes on disk.
SELECT s.name, b.band_name, b.valid_count, b.min, b.max, round(b.mean, 1) AS mean,
       round(b.p02, 1) AS p02, round(b.p50, 1) AS p50, round(b.p98, 1) AS p98
FROM band_stats b JOIN scenes s USING (scene_id)
WHERE b.modality = 's2' AND b.band_name IN ('B4', 'B8')
ORDER BY s.scene_id, b.band LIMIT 4;
