-- Scenes over central Europe acquired in summer 2019, in one R*Tree lookup.
-- Days count from 1970-01-01: julianday(t) - 2440587.5.
SELECT s.name, s.s2_time, s.has_files
FROM scenes_rtree r JOIN scenes s USING (scene_id)
WHERE r.max_lon >= 0.0 AND r.min_lon <= 20.0 AND r.max_lat >= 42.0 AND r.min_lat <= 55.0
  AND r.max_day >= julianday('2019-06-01') - 2440587.5 AND r.min_day <= julianday('2019-09-01') - 2440587.5
ORDER BY s.s2_time LIMIT 5;
