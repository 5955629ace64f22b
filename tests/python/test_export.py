"""`sen12lite export`: GeoParquet 1.1 read back by pyarrow and asked the README's questions in
DuckDB, GeoPackage and GeoJSON read by OGR. The oracle is the catalog itself, read with Python's
sqlite3, and OGR/GEOS for the geometries."""
import json
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime

import duckdb
import pyarrow.parquet as pq
import pytest
from osgeo import ogr

from conftest import BIN, ROOT, peak_rss, run

EXAMPLES = ROOT / "sql" / "examples"
# The README's questions asked of the GeoParquet export in DuckDB (no extension: its spatial
# extension is downloaded from DuckDB's own repository, out of reach here, and not needed: the
# bbox covering column is plain doubles). The questions on band_stats and ingest_errors (07, 08)
# are not about scenes: the GeoPackage export carries those tables, the scene table does not.
DUCKDB_EXAMPLES = {
    "01_scene_counts": """SELECT dataset, split, count(*) AS scenes, sum(has_files::INTEGER) AS on_disk
        FROM scenes GROUP BY dataset, split ORDER BY dataset, split""",
    "02_download_plan": """SELECT split, landcover, count(*) AS missing FROM scenes
        WHERE dataset = 'sen12tp' AND NOT has_files GROUP BY split, landcover ORDER BY missing DESC""",
    "03_alps_summer_pairs": """SELECT name FROM scenes
        WHERE bbox.xmax >= 5.0 AND bbox.xmin <= 16.5 AND bbox.ymax >= 43.5 AND bbox.ymin <= 48.5
          AND s1_href IS NOT NULL AND s2_href IS NOT NULL
          AND season = 'summer' AND abs(dt_hours) <= 6 AND cloud_fraction < 0.05 AND grassland >= 0.30""",
    "04_clear_green_pairs": """SELECT name FROM scenes WHERE s1_href IS NOT NULL AND s2_href IS NOT NULL
        AND cloud_fraction < 0.05 ORDER BY ndvi_mean DESC LIMIT 5""",
    "05_region_and_time": """SELECT name FROM scenes
        WHERE bbox.xmax >= 0.0 AND bbox.xmin <= 20.0 AND bbox.ymax >= 42.0 AND bbox.ymin <= 55.0
          AND greatest(s1_time, s2_time) >= TIMESTAMPTZ '2019-06-01 00:00:00+00'
          AND least(s1_time, s2_time) <= TIMESTAMPTZ '2019-09-01 00:00:00+00'
        ORDER BY s2_time LIMIT 5""",
    "06_landcover_mix": """SELECT name FROM scenes WHERE tree IS NOT NULL ORDER BY cropland DESC LIMIT 5""",
}


def export(catalog, out, fmt, *where):
    return run("export", catalog, out, "--format", fmt, *(["--where", where[0]] if where else []))


def catalog_rows(db, sql, *args):
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, args)]


def millis(text):
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def parquet(tp_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "scenes.parquet"
    export(tp_db, out, "geoparquet")
    return out


def test_geoparquet_holds_every_scene_as_the_catalog_has_it(parquet, tp_db):
    table = pq.read_table(parquet).to_pylist()
    root = catalog_rows(tp_db, "SELECT value FROM s12_meta WHERE key = 'data_root'")[0]["value"]
    scenes = catalog_rows(tp_db, """SELECT s.*, m.cropland, m.tree,
        (SELECT path FROM files f WHERE f.scene_id = s.scene_id AND f.modality = 's2') AS s2_path
        FROM scenes s LEFT JOIN landcover_mix m USING (scene_id) ORDER BY scene_id""")
    assert len(table) == len(scenes) == 2319
    for got, want in zip(table, scenes):
        assert got["scene_id"] == want["scene_id"] and got["name"] == want["name"]
        assert got["s2_time"] == millis(want["s2_time"]) and got["s1_time"] == millis(want["s1_time"])
        assert got["has_files"] == bool(want["has_files"])
        assert (got["cloud_fraction"], got["cropland"], got["tree"]) == (want["cloud_fraction"], want["cropland"], want["tree"])
        assert got["s2_href"] == (want["s2_path"] and f"{root}/{want['s2_path']}")
        assert got["geometry"] == want["geom"]
        assert got["bbox"] == {"xmin": want["min_lon"], "ymin": want["min_lat"], "xmax": want["max_lon"], "ymax": want["max_lat"]}


def test_geoparquet_metadata_follows_the_1_1_specification(parquet, tp_db):
    geo = json.loads(pq.read_metadata(parquet).metadata[b"geo"])
    column = geo["columns"]["geometry"]
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    assert column["encoding"] == "WKB" and column["geometry_types"] == ["Polygon"]
    assert column["covering"] == {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}}
    assert column["crs"]["id"] == {"authority": "OGC", "code": "CRS84"}  # longitude first, as the WKB is
    extent = catalog_rows(tp_db, "SELECT min(min_lon) a, min(min_lat) b, max(max_lon) c, max(max_lat) d FROM scenes")[0]
    assert column["bbox"] == list(extent.values())
    schema = pq.read_schema(parquet)
    assert str(schema.field("s2_time").type) == "timestamp[ms, tz=UTC]"
    # Every footprint parses as the polygon of the catalog's GeoJSON (GEOS, through OGR).
    for row in pq.read_table(parquet, columns=["scene_id", "geometry"]).to_pylist()[:200]:
        (footprint,) = [r["footprint"] for r in catalog_rows(tp_db, "SELECT footprint FROM scenes WHERE scene_id = ?", row["scene_id"])]
        assert ogr.CreateGeometryFromWkb(row["geometry"]).Equals(ogr.CreateGeometryFromJson(footprint))


@pytest.mark.parametrize("example", sorted(DUCKDB_EXAMPLES))
def test_duckdb_answers_the_readme_questions_as_the_catalog_does(parquet, tp_db, example):
    sql = (EXAMPLES / f"{example}.sql").read_text()
    if example == "02_download_plan":
        sql = sql.replace("LIMIT 8", "")  # ties in the counts: compare the whole plan
    expected = [tuple(r.values()) for r in catalog_rows(tp_db, sql)]
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW scenes AS SELECT * FROM read_parquet('{parquet}')")
        got = con.execute(DUCKDB_EXAMPLES[example]).fetchall()
    if example >= "03":
        got, expected = [r[0] for r in got], [r[0] for r in expected]  # the same scenes, by name
    assert sorted(map(str, got)) == sorted(map(str, expected)), (got, expected)
    assert example in ("03_alps_summer_pairs",) or got  # a question with no answer proves nothing


def test_where_keeps_the_scenes_the_same_sql_keeps(tp_db, tmp_path):
    where = "has_files AND cloud_fraction < 0.5 AND s2_time >= '2019-01-01'"
    out = tmp_path / "some.parquet"
    export(tp_db, out, "geoparquet", where)
    expected = [r["scene_id"] for r in catalog_rows(tp_db, f"SELECT scene_id FROM scenes WHERE {where} ORDER BY scene_id")]
    assert pq.read_table(out, columns=["scene_id"]).column(0).to_pylist() == expected and expected


def test_geopackage_is_a_polygon_layer_with_the_scenes_rows_of_the_other_tables(tp_db, tmp_path):
    out = tmp_path / "catalog.gpkg"
    export(tp_db, out, "gpkg", "has_files")
    source = ogr.Open(str(out))
    scenes = source.GetLayerByName("scenes")
    ids = {r["scene_id"] for r in catalog_rows(tp_db, "SELECT scene_id FROM scenes WHERE has_files")}
    assert scenes.GetGeomType() == ogr.wkbPolygon and scenes.GetFeatureCount() == len(ids)
    assert scenes.GetSpatialRef().GetAuthorityCode(None) == "4326"
    for feature in scenes:
        (footprint,) = [r["footprint"] for r in catalog_rows(tp_db, "SELECT footprint FROM scenes WHERE scene_id = ?", feature["scene_id"])]
        assert feature.GetGeometryRef().Equals(ogr.CreateGeometryFromJson(footprint))
    for table in ("files", "band_stats", "landcover"):
        expected = catalog_rows(tp_db, f"SELECT count(*) n FROM {table} WHERE scene_id IN (SELECT scene_id FROM scenes WHERE has_files)")[0]["n"]
        assert source.GetLayerByName(table).GetFeatureCount() == expected > 0, table
    assert source.GetLayerByName("ingest_errors") is not None


def test_geojson_is_one_feature_collection_in_longitude_latitude(tp_db, tmp_path):
    out = tmp_path / "scenes.geojson"
    export(tp_db, out, "geojson", "has_files")
    collection = json.loads(out.read_text())
    rows = {r["name"]: r for r in catalog_rows(tp_db, "SELECT name, footprint, cloud_fraction FROM scenes WHERE has_files")}
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == len(rows)
    for feature in collection["features"]:
        want = rows[feature["properties"]["name"]]
        assert feature["properties"]["cloud_fraction"] == want["cloud_fraction"]
        assert ogr.CreateGeometryFromJson(json.dumps(feature["geometry"])).Equals(ogr.CreateGeometryFromJson(want["footprint"]))


@pytest.mark.parametrize("args, message", [
    (["--where", "cloud_fraction <"], "export: --where 'cloud_fraction <': near \")\": syntax error"),
    (["--where", "no_such_column = 1"], "export: --where 'no_such_column = 1': no such column: no_such_column"),
])
def test_a_bad_where_is_named_and_leaves_no_file(tp_db, tmp_path, args, message):
    out = tmp_path / "x.parquet"
    result = run("export", tp_db, out, "--format", "geoparquet", *args, check=False)
    assert result.returncode == 2 and message in result.stderr and not out.exists(), result.stderr


def test_an_existing_file_is_never_overwritten(tp_db, tmp_path):
    out = tmp_path / "x.gpkg"
    out.write_text("mine")
    result = run("export", tp_db, out, "--format", "gpkg", check=False)
    assert result.returncode == 2 and "exists" in result.stderr and out.read_text() == "mine"


@pytest.mark.parametrize("fmt", ["geoparquet", "stac-geoparquet"])
def test_the_export_streams_in_memory_that_does_not_grow_with_the_catalog(tp_db, tmp_path, fmt):
    big = tmp_path / "big.db"
    shutil.copy(tp_db, big)
    with closing(sqlite3.connect(big)) as conn:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(scenes)") if c[1] not in ("scene_id", "name")]
        names = ", ".join(columns)
        for k in range(1, 41):  # 40 more copies of every scene: 95,079 scenes
            conn.execute(f"INSERT INTO scenes (scene_id, name, {names}) "
                         f"SELECT scene_id + {k} * 100000, name || '_{k}', {names} FROM scenes WHERE scene_id < 100000")
        conn.commit()
    small_run, small = peak_rss([BIN, "export", tp_db, tmp_path / "small.parquet", "--format", fmt])
    big_run, large = peak_rss([BIN, "export", big, tmp_path / "big.parquet", "--format", fmt])
    assert small_run.returncode == big_run.returncode == 0, big_run.stderr
    assert pq.read_metadata(tmp_path / "big.parquet").num_rows == 41 * 2319
    print(f"\n{fmt} export peak RSS: 2,319 scenes {small:.0f} MiB, 95,079 scenes {large:.0f} MiB")
    assert large < small + 32, (small, large)
