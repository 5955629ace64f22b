"""Scene rows: the real metadata file alone, seasons on both hemispheres, SEN12MS footprints and
seasons, the R*Tree and its query plan. Expected values are recomputed here from the JSON and
from GDAL/OSR, not taken from the loader."""
import datetime as dt
import json
import re
import shutil

import pytest
from osgeo import gdal, osr

from conftest import BEFORE_VERSION_4, METADATA, ROOT, connect, older_schema, run

gdal.UseExceptions()
NORTH = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
         6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}
FLIP = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


def iso(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture(scope="module")
def metadata_only_db(tmp_path_factory):
    tree = tmp_path_factory.mktemp("meta")
    shutil.copy(METADATA, tree / "sen12tp-metadata.json")
    db = tree / "catalog.db"
    out = run("ingest", tree, "--db", db)
    assert "2319 metadata scenes" in out.stdout
    return db


def test_every_scene_of_the_real_metadata_gets_an_exact_row(metadata_only_db):
    features = json.loads(METADATA.read_text())["features"]
    conn = connect(metadata_only_db)
    rows = {r["scene_id"]: r for r in conn.execute("SELECT * FROM scenes")}
    assert len(rows) == len(features) == 2319
    for f in features:
        p, ring = f["properties"], f["geometry"]["coordinates"][0]
        r = rows[p["scene_id"]]
        lons, lats = [c[0] for c in ring[:-1]], [c[1] for c in ring[:-1]]
        center_lat = sum(lats) / 4
        s2_month = dt.datetime.fromtimestamp(p["s2_timestamp_ms"] / 1000, dt.timezone.utc).month
        season = NORTH[s2_month] if center_lat >= 0 else FLIP[NORTH[s2_month]]
        assert (r["name"], r["roi_id"], r["split"], r["climate"], r["landcover"], r["month"]) == (
            f"{p['spatial_id']}_{p['scene_id']}", p["spatial_id"], p["split"], p["climate"], p["landcover"], p["month"])
        assert (r["s1_time"], r["s2_time"]) == (iso(p["s1_timestamp_ms"]), iso(p["s2_timestamp_ms"]))
        assert r["dt_hours"] == pytest.approx((p["s1_timestamp_ms"] - p["s2_timestamp_ms"]) / 3.6e6)
        assert r["utm_epsg"] == int(p["utm_epsg"].split(":")[1])
        assert (r["min_lon"], r["max_lon"], r["min_lat"], r["max_lat"]) == (min(lons), max(lons), min(lats), max(lats))
        assert r["center_lat"] == pytest.approx(center_lat)
        assert (r["season"], r["hemisphere"], r["has_files"]) == (season, "N" if center_lat >= 0 else "S", 0)
        assert json.loads(r["footprint"]) == {"type": "Polygon", "coordinates": [ring]}
    # Both hemispheres and all four seasons occur in the real data.
    assert {r["hemisphere"] for r in rows.values()} == {"N", "S"}
    south_december = [r for r in rows.values() if r["hemisphere"] == "S" and r["s2_time"][5:7] == "12"]
    assert south_december and all(r["season"] == "summer" for r in south_december)
    assert conn.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0


def test_rtree_matches_a_full_scan_and_the_plan_uses_it(metadata_only_db):
    conn = connect(metadata_only_db)
    box = (5.0, 16.5, 43.5, 48.5)
    d0 = (dt.date(2019, 1, 1) - dt.date(1970, 1, 1)).days
    d1 = (dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days
    query = """SELECT s.scene_id FROM scenes_rtree r JOIN scenes s USING (scene_id)
               WHERE r.max_lon >= ? AND r.min_lon <= ? AND r.max_lat >= ? AND r.min_lat <= ?
                 AND r.max_day >= ? AND r.min_day <= ?"""
    args = (*box, d0, d1)
    via_rtree = {r[0] for r in conn.execute(query, args)}
    brute_force = """SELECT scene_id FROM scenes WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?
                     AND julianday(s2_time) - 2440587.5 BETWEEN ? AND ?"""
    exact = {r[0] for r in conn.execute(brute_force, args)}
    # float32 bounds are rounded outward: never a miss, extras only within float32 reach of the box.
    widened = {r[0] for r in conn.execute(brute_force, (box[0] - 1e-5, box[1] + 1e-5, box[2] - 1e-5, box[3] + 1e-5, d0 - 0.01, d1 + 0.01))}
    assert exact and exact <= via_rtree <= widened
    plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + query, args))
    # idxNum 2 is the R*Tree's own search; all six bounds go to it (D1B0D3B2D5B4).
    assert "SCAN r VIRTUAL TABLE INDEX 2:D1B0D3B2D5B4" in plan, plan


def test_sen12ms_footprints_seasons_and_ids(ms_tree, ms_db):
    conn = connect(ms_db)
    rows = conn.execute("SELECT s.*, f.path FROM scenes s JOIN files f USING (scene_id) WHERE f.modality = 's2'").fetchall()
    assert len(rows) == 14
    lonlat = osr.SpatialReference()
    lonlat.ImportFromEPSG(4326)
    lonlat.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    hemispheres = set()
    for r in rows:
        ds = gdal.Open(str(ms_tree / r["path"]))
        g, w, h = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
        transform = osr.CoordinateTransformation(ds.GetSpatialRef(), lonlat)
        corners = [transform.TransformPoint(g[0] + c * g[1], g[3] + l * g[5])[:2] for c, l in [(0, 0), (0, h), (w, h), (w, 0)]]
        ring = json.loads(r["footprint"])["coordinates"][0]
        for got, want in zip(ring, corners):
            assert got == pytest.approx(list(want), abs=1e-9)
        folder_season = r["name"].split("_")[1]
        north = "autumn" if folder_season == "fall" else folder_season
        hemisphere = "N" if sum(c[1] for c in corners) / 4 >= 0 else "S"
        hemispheres.add(hemisphere)
        assert r["hemisphere"] == hemisphere
        assert r["season"] == (north if hemisphere == "N" else FLIP[north])
        scene = int(r["name"].split("_")[2])
        assert r["name"].split("_p")[1].isdigit()
        assert r["roi_id"] == scene and r["s1_time"] is None
        assert r["split"] in ("train", "test")
    assert hemispheres == {"N", "S"}
    # ids depend only on names: a second catalog of the same tree agrees.
    first = dict(conn.execute("SELECT name, scene_id FROM scenes"))
    again = ms_db.parent / "again.db"
    run("ingest", ms_tree, "--db", again)
    assert dict(connect(again).execute("SELECT name, scene_id FROM scenes")) == first
    window = conn.execute("SELECT min_day, max_day FROM scenes_rtree r JOIN scenes s USING (scene_id) WHERE s.name LIKE 'ROIs2017_winter%'").fetchone()
    start, end = (dt.date(2016, 12, 1) - dt.date(1970, 1, 1)).days, (dt.date(2017, 3, 1) - dt.date(1970, 1, 1)).days
    assert window[0] <= start and window[1] >= end and window[1] - end < 0.01  # float32, rounded outward


def release_label(path):
    """The release a SEN12MS file came in, from its season folder (`ROIs1970_fall/...`), in the
    catalog's season words."""
    label = path.split("/")[0].split("_")[1]
    return "autumn" if label == "fall" else label


def test_release_season_is_the_season_folders_label_and_null_for_sen12tp(ms_db, tp_db):
    with connect(ms_db) as conn:
        rows = conn.execute("SELECT s.release_season, s.season, s.hemisphere, f.path FROM scenes s "
                            "JOIN files f USING (scene_id) WHERE f.modality = 's2'").fetchall()
    assert rows and all(r["release_season"] == release_label(r["path"]) for r in rows), [tuple(r) for r in rows]
    southern = [r for r in rows if r["hemisphere"] == "S"]
    assert southern and all(r["season"] != r["release_season"] for r in southern)  # the point of the column
    with connect(tp_db) as conn:
        assert conn.execute("SELECT count(*) FROM scenes WHERE release_season IS NOT NULL").fetchone()[0] == 0


def test_a_version_2_catalog_gains_release_season_when_opened_by_the_next_ingest(ms_tree, ms_db, tmp_path):
    db = tmp_path / "v2.db"
    shutil.copy(ms_db, db)
    older_schema(db, [*BEFORE_VERSION_4, "ALTER TABLE scenes DROP COLUMN release_season",
                      "UPDATE s12_meta SET value = '2' WHERE key = 'schema_version'"])
    run("ingest", ms_tree, "--db", db)
    query = "SELECT scene_id, release_season FROM scenes ORDER BY scene_id"
    with connect(db) as migrated, connect(ms_db) as fresh:
        assert migrated.execute("SELECT value FROM s12_meta WHERE key = 'schema_version'").fetchone()[0] == "4"
        assert [tuple(r) for r in migrated.execute(query)] == [tuple(r) for r in fresh.execute(query)]


def test_the_release_season_example_of_docs_catalog_shows_both_seasons(ms_db):
    doc = (ROOT / "docs" / "catalog.md").read_text()
    sql = re.search(r"```sql\n(.*?release_season.*?)```", doc, re.S).group(1)
    with connect(ms_db) as conn:
        rows = {(r[0], r[1], r[2]) for r in conn.execute(sql.replace("\n  ", "\n"))}
    assert ("spring", "autumn", "S") in rows and ("spring", "spring", "N") in rows, rows
