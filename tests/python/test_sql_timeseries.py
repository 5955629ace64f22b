"""s12_timeseries (src/sql/functions/s12_timeseries.rs) against a brute-force loop: every scene of the catalog
whose footprint (OGR) holds the point and has the file, the pixel found with OSR and the inverse
geotransform, nodata and the cloud rule applied in numpy, ordered by time."""
import copy
import json
import sqlite3

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from conftest import ROOT, load, run

gdal.UseExceptions()
DATES = ["2019-03-02", "2019-06-14", "2019-09-20", "2020-01-05"]


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """One place seen on four dates (scene ids 9001..9004 of ROI 720, the first real footprint),
    synthesized and ingested: a region with several dates, as SEN12TP has them."""
    metadata = json.loads((ROOT / "data" / "sen12tp-metadata.json").read_text())
    place = metadata["features"][0]
    features = []
    for i, day in enumerate(DATES):
        feature = copy.deepcopy(place)
        ms = int(np.datetime64(day, "ms").astype(np.int64))
        feature["properties"].update(scene_id=9001 + i, s2_timestamp_ms=ms, s1_timestamp_ms=ms + 3_600_000)
        features.append(feature)
    work = tmp_path_factory.mktemp("dated")
    (work / "metadata.json").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    tree = work / "data"
    run("synth", tree, "--layout", "sen12tp", "--metadata", work / "metadata.json", "--scenes", 4, "--size", 200, "--seed", 7)
    db = work / "catalog.db"
    run("ingest", tree, "--db", db)
    return db


def brute_force(conn, lon, lat, modality, band, index=None, threshold=40):
    root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    lonlat = osr.SpatialReference()
    lonlat.ImportFromEPSG(4326)
    lonlat.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    point = ogr.CreateGeometryFromWkt(f"POINT ({lon} {lat})")
    rows = []
    for scene_id, footprint, s1_time, s2_time in conn.execute("SELECT scene_id, footprint, s1_time, s2_time FROM scenes"):
        if footprint is None or not ogr.CreateGeometryFromJson(footprint).Intersects(point):
            continue
        path = conn.execute("SELECT path FROM files WHERE scene_id = ? AND modality = ?", (scene_id, modality)).fetchone()
        if path is None:
            continue
        ds = gdal.Open(f"{root}/{path[0]}")
        x, y, _ = osr.CoordinateTransformation(lonlat, ds.GetSpatialRef()).TransformPoint(lon, lat)
        g = ds.GetGeoTransform()
        col, row = int(np.floor((x - g[0]) / g[1])), int(np.floor((y - g[3]) / g[5]))
        names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]

        if not (0 <= col < ds.RasterXSize and 0 <= row < ds.RasterYSize):
            rows.append((scene_id, s1_time, s2_time, None, s1_time if modality == "s1" else s2_time))
            continue

        def value(name):
            name = name if name in names else f"{name}_sigma0"  # S1 'VV' names VV_sigma0
            b = ds.GetRasterBand(names.index(name) + 1)
            v = float(b.ReadAsArray(col, row, 1, 1)[0, 0])
            return None if np.isnan(v) or v == b.GetNoDataValue() else v

        cloudy = "cloud_probability" in names and band != "cloud_probability" and (value("cloud_probability") or 0) > threshold
        if cloudy:
            got = None
        elif index:
            inputs = [value(b) for b in index[0]]
            got = None if None in inputs else index[1](*inputs)
        else:
            got = value(band)
        rows.append((scene_id, s1_time, s2_time, got, s1_time if modality == "s1" else s2_time))
    rows.sort(key=lambda r: (r[4] is None, r[4], r[0]))
    return [r[:4] for r in rows]


def points_in(conn, n, seed):
    lon0, lat0, lon1, lat1 = conn.execute("SELECT min(center_lon), min(center_lat), max(center_lon), max(center_lat) "
                                          "FROM scenes WHERE has_files").fetchone()
    rng = np.random.default_rng(seed)
    # The synthetic rasters cover the middle 2 km of the footprint: most points fall on them.
    return [(lon0 + rng.normal(0, 0.006), lat0 + rng.normal(0, 0.006)) for _ in range(n)]


def same(got, expected):
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    for g, e in zip(got, expected):
        assert (g[3] is None) == (e[3] is None) and (g[3] is None or g[3] == pytest.approx(e[3], rel=1e-9)), (g, e)


@pytest.mark.parametrize("modality, band, index", [
    ("s2", "B8", None),
    ("s2", "cloud_probability", None),
    ("s1", "VV", None),
    ("s2", "ndvi", (["B8", "B4"], lambda nir, red: (nir - red) / (nir + red) if nir + red else None)),
])
def test_timeseries_matches_a_brute_force_loop(dated, modality, band, index):
    conn = load(dated)
    nulls = 0
    for lon, lat in points_in(conn, 25, seed=3):
        got = conn.execute("SELECT * FROM s12_timeseries(?, ?, ?, ?)", (lon, lat, modality, band)).fetchall()
        expected = brute_force(conn, lon, lat, modality, band, index)
        same(got, expected)
        nulls += sum(g[3] is None for g in got)
    assert len(got) == 4 and [g[2][:10] for g in got] == DATES
    if modality == "s2" and band != "cloud_probability":
        assert nulls > 0, "some of the points must fall under cloud or swath edge on some date"


def test_timeseries_hides_optical_values_under_cloud(dated):
    conn = load(dated)
    hidden = 0
    for lon, lat in points_in(conn, 25, seed=3):
        b8 = conn.execute("SELECT value FROM s12_timeseries(?, ?, 's2', 'B8')", (lon, lat)).fetchall()
        clouds = conn.execute("SELECT value FROM s12_timeseries(?, ?, 's2', 'cloud_probability')", (lon, lat)).fetchall()
        for (value,), (cloud,) in zip(b8, clouds):
            if cloud is not None and cloud > 40:
                assert value is None
                hidden += 1
    assert hidden > 0, "the fixture must put clouds over some of the points"


def test_timeseries_outside_every_scene_is_empty_and_bad_input_is_refused(dated):
    conn = load(dated)
    assert conn.execute("SELECT count(*) FROM s12_timeseries(0, 0, 's2', 'B4')").fetchone()[0] == 0
    with pytest.raises(sqlite3.OperationalError, match="s12_timeseries: ndvi is an index of s2, not of s1"):
        conn.execute("SELECT * FROM s12_timeseries(-70.3, -34.5, 's1', 'ndvi')").fetchall()
    with pytest.raises(sqlite3.OperationalError, match=r"s12_timeseries: band 'B99' is not in s2"):
        conn.execute("SELECT * FROM s12_timeseries(-70.3, -34.5, 's2', 'B99')").fetchall()
    with pytest.raises(sqlite3.OperationalError, match=r"s12_timeseries: \(-34.5, -95\) is not a WGS84 lon/lat position"):
        conn.execute("SELECT * FROM s12_timeseries(-34.5, -95, 's2', 'B4')").fetchall()
