-- Land-cover mix (ESA WorldCover) of the scenes on disk, largest cropland share first.
SELECT s.name, s.landcover, round(m.tree, 3) AS tree, round(m.cropland, 3) AS cropland,
       round(m.grassland, 3) AS grassland, round(m.water, 3) AS water
FROM landcover_mix m JOIN scenes s USING (scene_id)
ORDER BY m.cropland DESC LIMIT 5;
