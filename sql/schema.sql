-- sen12lite catalog schema, version 4 (version 3 had no patch grid, version 2 no scenes.release_season, version 1 no band_stats.sketch and no scenes.geom).
-- Applied by `sen12lite ingest`; a public contract: the
-- extension, the docs and users' queries depend on these names. See docs/catalog.md.

CREATE TABLE IF NOT EXISTS s12_meta (
  key   TEXT PRIMARY KEY,  -- schema_version, data_root, loader_version, last_ingest, metadata_source, cloud_threshold
  value TEXT
);

-- One row per SEN12TP scene (every scene of the metadata, also without files on disk)
-- or SEN12MS / SEN12MS-CR patch triplet (season folder, scene, patch).
CREATE TABLE IF NOT EXISTS scenes (
  scene_id       INTEGER PRIMARY KEY,
  dataset        TEXT NOT NULL CHECK (dataset IN ('sen12tp', 'sen12ms', 'sen12ms-cr')),
  name           TEXT NOT NULL UNIQUE,   -- '720_1868' | 'ROIs1158_spring_1_p30'
  roi_id         INTEGER,                -- SEN12TP spatial_id | SEN12MS scene number
  split          TEXT,                   -- 'train' | 'test' | NULL
  climate        TEXT,                   -- Koeppen class (SEN12TP)
  landcover      TEXT,                   -- SEN12TP label | dominant IGBP class (SEN12MS)
  s1_time        TEXT,                   -- ISO-8601 UTC with milliseconds
  s2_time        TEXT,
  dt_hours       REAL,                   -- (s1 - s2) in hours, signed
  month          INTEGER,                -- as the metadata gives it
  season         TEXT CHECK (season IN ('spring', 'summer', 'autumn', 'winter')),  -- the scene's own, hemisphere-true
  hemisphere     TEXT CHECK (hemisphere IN ('N', 'S')),
  utm_epsg       INTEGER,
  min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
  center_lon REAL, center_lat REAL,
  footprint      TEXT,                   -- GeoJSON Polygon, lon/lat
  geom           BLOB,                   -- the same polygon as WKB (EPSG:4326, lon/lat): see geometry_columns
  width          INTEGER,                -- pixels, from the S2 file (else the first file read)
  height         INTEGER,
  has_files      INTEGER NOT NULL DEFAULT 0,  -- 1 when at least one file is catalogued
  cloud_fraction REAL,                   -- valid S2 pixels with cloud_probability > threshold
  valid_fraction REAL,                   -- S2 pixels valid in every reflectance band
  ndvi_mean      REAL,                   -- mean (B8 - B4) / (B8 + B4), valid cloud-free pixels
  -- SEN12MS: the label of the release, the same in both hemispheres (ROIs1970_fall: 'autumn'); SEN12TP: NULL
  release_season TEXT CHECK (release_season IN ('spring', 'summer', 'autumn', 'winter'))
);
CREATE INDEX IF NOT EXISTS scenes_roi ON scenes (roi_id);

-- scenes.geom registered as GDAL's SQLite driver registers WKB columns, so that ogrinfo, ogr2ogr
-- and QGIS read `scenes` as a polygon layer in EPSG:4326 without being told (docs/catalog.md).
CREATE TABLE IF NOT EXISTS geometry_columns (
  f_table_name VARCHAR, f_geometry_column VARCHAR, geometry_type INTEGER, coord_dimension INTEGER,
  srid INTEGER, geometry_format VARCHAR
);
CREATE TABLE IF NOT EXISTS spatial_ref_sys (srid INTEGER UNIQUE, auth_name TEXT, auth_srid TEXT, srtext TEXT);
INSERT INTO spatial_ref_sys SELECT 4326, 'EPSG', '4326', 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
  WHERE NOT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = 4326);
INSERT INTO geometry_columns SELECT 'scenes', 'geom', 3, 2, 4326, 'WKB'
  WHERE NOT EXISTS (SELECT 1 FROM geometry_columns WHERE f_table_name = 'scenes' AND f_geometry_column = 'geom');

-- Region + time in one indexed lookup. Days since 1970-01-01 (S2 time for SEN12TP, the season
-- folder's acquisition window for SEN12MS). The R*Tree stores float32 bounds rounded outward.
CREATE VIRTUAL TABLE IF NOT EXISTS scenes_rtree USING rtree (
  scene_id, min_lon, max_lon, min_lat, max_lat, min_day, max_day
);

CREATE TABLE IF NOT EXISTS files (
  scene_id     INTEGER NOT NULL REFERENCES scenes (scene_id) ON DELETE CASCADE,
  modality     TEXT NOT NULL,            -- s1 s2 dsm worldcover ... | s1 s2 lc
  path         TEXT NOT NULL UNIQUE,     -- relative to s12_meta.data_root
  bytes        INTEGER NOT NULL,
  mtime        INTEGER NOT NULL,         -- nanoseconds since 1970-01-01
  width        INTEGER,
  height       INTEGER,
  band_count   INTEGER,
  dtype        TEXT,                     -- GDAL type of band 1: UInt16, Float32, ...
  nodata       ANY,                      -- band 1 nodata tag: a number, 'nan', or NULL
  epsg         INTEGER,
  geotransform TEXT,                     -- JSON array of GDAL's six coefficients
  stats        INTEGER NOT NULL DEFAULT 0, -- 1 when band_stats were computed
  patch_threshold REAL,                  -- the cloud threshold its patch_cells were counted with; NULL: none counted
  PRIMARY KEY (scene_id, modality)
);

-- Exact over every pixel; nodata and NaN excluded; stddev is the population one; percentiles
-- use numpy's default (linear) definition. sketch: the valid values' mergeable quantile sketch
-- (1 % relative accuracy; format in docs/catalog.md), which s12_band_summary merges.
CREATE TABLE IF NOT EXISTS band_stats (
  scene_id     INTEGER NOT NULL REFERENCES scenes (scene_id) ON DELETE CASCADE,
  modality     TEXT NOT NULL,
  band         INTEGER NOT NULL,         -- 1-based
  band_name    TEXT NOT NULL,
  valid_count  INTEGER NOT NULL,
  nodata_count INTEGER NOT NULL,
  min REAL, max REAL, mean REAL, stddev REAL, p02 REAL, p50 REAL, p98 REAL,
  sketch       BLOB,
  PRIMARY KEY (scene_id, modality, band)
);

-- Share of each class among the valid pixels of the land-cover map.
CREATE TABLE IF NOT EXISTS landcover (
  scene_id INTEGER NOT NULL REFERENCES scenes (scene_id) ON DELETE CASCADE,
  source   TEXT NOT NULL,                -- 'worldcover' (SEN12TP) | 'igbp' (SEN12MS)
  class    INTEGER NOT NULL,
  label    TEXT,
  fraction REAL NOT NULL,
  PRIMARY KEY (scene_id, source, class)
);

-- The SEN12TP authors' patch grid (256 px every 249 px) as one file's pixels fill it, counted by
-- the ingest in the pass that computes the statistics (s1, s2 and land-cover files). `patches`
-- joins the cells of a scene's files.
CREATE TABLE IF NOT EXISTS patch_cells (
  scene_id     INTEGER NOT NULL REFERENCES scenes (scene_id) ON DELETE CASCADE,
  modality     TEXT NOT NULL,
  row          INTEGER NOT NULL,         -- top pixel row of the patch
  col          INTEGER NOT NULL,         -- left pixel column
  invalid      INTEGER NOT NULL,         -- pixels without data in this file
  invalid_runs BLOB,                     -- where: little-endian u16 (y, x0, x1) runs in the patch; NULL when none
  valid        INTEGER,                  -- s2: valid pixels
  cloudy       INTEGER,                  -- s2: valid pixels under cloud
  ndvi_sum     REAL,                     -- s2: NDVI summed over clear pixels, row-major
  ndvi_count   INTEGER,
  classes      TEXT,                     -- land cover: JSON {"class code": pixels}
  PRIMARY KEY (scene_id, modality, row, col)
) WITHOUT ROWID;

-- Every patch of the authors' grid of each scene, as s12_patches(scene) gives it: the same rules,
-- the same values, kept by the ingest so that a patch query over all scenes reads no raster.
CREATE TABLE IF NOT EXISTS patches (
  scene_id        INTEGER NOT NULL REFERENCES scenes (scene_id) ON DELETE CASCADE,
  row             INTEGER NOT NULL,      -- top pixel row
  col             INTEGER NOT NULL,      -- left pixel column
  width           INTEGER NOT NULL,
  height          INTEGER NOT NULL,
  cloud_fraction  REAL,                  -- cloudy over valid S2 pixels; NULL without a cloud band
  nodata_fraction REAL NOT NULL,         -- pixels where S2 (a reflectance band) or S1 has no data
  ndvi_mean       REAL,                  -- over clear pixels where B8 and B4 have data
  landcover       TEXT,                  -- JSON {"class code": share} of the map's pixels with data
  PRIMARY KEY (scene_id, row, col)
) WITHOUT ROWID;

-- A whole-file quicklook of each s2 (`rgb`, B4 B3 B2 over each band's 2-98 %), s1 (`vv`, the same
-- stretch) and land-cover file (`worldcover`, `igbp`: the legend's colours), at most 512 px on its
-- longer side (every step-th pixel from the middle of its block), kept by the ingest; s12_png(scene, what).
CREATE TABLE IF NOT EXISTS quicklooks (
  scene_id INTEGER NOT NULL REFERENCES scenes (scene_id) ON DELETE CASCADE,
  what     TEXT NOT NULL,                -- rgb | vv | worldcover | igbp
  modality TEXT NOT NULL,                -- the file it is drawn from
  width    INTEGER NOT NULL,
  height   INTEGER NOT NULL,
  png      BLOB NOT NULL,                -- RGBA, no data transparent
  PRIMARY KEY (scene_id, what)
);

-- The scenes whose `patches` are complete, and the cloud threshold they follow.
CREATE TABLE IF NOT EXISTS patch_grids (
  scene_id        INTEGER PRIMARY KEY REFERENCES scenes (scene_id) ON DELETE CASCADE,
  patches         INTEGER NOT NULL,
  cloud_threshold REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS ingest_errors (
  path    TEXT NOT NULL,                 -- relative to data_root, or the metadata file
  stage   TEXT NOT NULL,                 -- discover | metadata | read | checksum | statistics
  message TEXT NOT NULL,
  at      TEXT NOT NULL                  -- ISO-8601 UTC
);
CREATE INDEX IF NOT EXISTS ingest_errors_path ON ingest_errors (path);

-- Which modalities of each scene are on disk: plan downloads from here.
CREATE VIEW IF NOT EXISTS scene_files AS
SELECT s.scene_id, s.name, s.dataset, s.split,
       EXISTS (SELECT 1 FROM files f WHERE f.scene_id = s.scene_id AND f.modality = 's1') AS has_s1,
       EXISTS (SELECT 1 FROM files f WHERE f.scene_id = s.scene_id AND f.modality = 's2') AS has_s2,
       EXISTS (SELECT 1 FROM files f WHERE f.scene_id = s.scene_id AND f.modality IN ('dsm', 'dem')) AS has_dsm,
       EXISTS (SELECT 1 FROM files f WHERE f.scene_id = s.scene_id AND f.modality IN ('worldcover', 'lc')) AS has_landcover,
       (SELECT count(*) FROM files f WHERE f.scene_id = s.scene_id) AS n_files,
       (SELECT coalesce(sum(bytes), 0) FROM files f WHERE f.scene_id = s.scene_id) AS bytes
FROM scenes s;

-- WorldCover fractions as columns, one row per scene that has a map.
CREATE VIEW IF NOT EXISTS landcover_mix AS
SELECT scene_id,
       total(fraction) FILTER (WHERE class = 10)  AS tree,
       total(fraction) FILTER (WHERE class = 20)  AS shrubland,
       total(fraction) FILTER (WHERE class = 30)  AS grassland,
       total(fraction) FILTER (WHERE class = 40)  AS cropland,
       total(fraction) FILTER (WHERE class = 50)  AS built_up,
       total(fraction) FILTER (WHERE class = 60)  AS bare,
       total(fraction) FILTER (WHERE class = 70)  AS snow_ice,
       total(fraction) FILTER (WHERE class = 80)  AS water,
       total(fraction) FILTER (WHERE class = 90)  AS wetland,
       total(fraction) FILTER (WHERE class = 95)  AS mangroves,
       total(fraction) FILTER (WHERE class = 100) AS moss_lichen
FROM landcover WHERE source = 'worldcover'
GROUP BY scene_id;

-- S1/S2 training pairs on disk with their quality and land-cover mix.
CREATE VIEW IF NOT EXISTS training_pairs AS
SELECT s.scene_id, s.name, s.split, s.season, s.hemisphere, s.climate, s.s1_time, s.s2_time,
       s.dt_hours, abs(s.dt_hours) AS abs_dt_hours, s.cloud_fraction, s.valid_fraction, s.ndvi_mean,
       m.tree, m.shrubland, m.grassland, m.cropland, m.built_up, m.bare, m.snow_ice, m.water, m.wetland
FROM scenes s
JOIN scene_files f USING (scene_id)
LEFT JOIN landcover_mix m USING (scene_id)
WHERE f.has_s1 AND f.has_s2;
