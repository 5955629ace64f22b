-- Summer scenes in the Alps, S1 within 6 h of S2, under 5 % cloud, at least 30 % grassland
-- (SEN12TP's Alpine summer scenes within 6 h are grassland, built-up and ice, none cropland).
-- The box goes through the R*Tree; the rest filters the few scenes it returns.
SELECT p.name, p.s2_time, round(p.dt_hours, 2) AS dt_hours,
       round(p.cloud_fraction, 4) AS cloud, round(p.grassland, 3) AS grassland
FROM scenes_rtree r JOIN training_pairs p USING (scene_id)
WHERE r.max_lon >= 5.0 AND r.min_lon <= 16.5 AND r.max_lat >= 43.5 AND r.min_lat <= 48.5
  AND p.season = 'summer' AND p.abs_dt_hours <= 6 AND p.cloud_fraction < 0.05 AND p.grassland >= 0.30;
