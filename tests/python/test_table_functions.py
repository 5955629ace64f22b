"""s12_patches, s12_pixels, s12_nearest, s12_intersects, s12_png, s12_indices and `sen12lite sql`,
each checked against an independent computation: GDAL + numpy on the same files, OGR/GEOS for
geometry, a brute-force great-circle search for the nearest footprints."""
import io
import json
import shutil
import sqlite3

import numpy as np
import pytest
from osgeo import gdal, ogr, osr


from conftest import load, run
from test_extension import SCENE, gdal_array

gdal.UseExceptions()
CLOUDY_SCENE = 455  # 1008_455: clouds, no nodata


def patch_oracle(conn, scene, size, stride, threshold=40):
    """FilteredSEN12TP's per-pixel rules, in numpy: nodata in any S2 reflectance or S1 band,
    cloudy when cloud_probability > threshold, NDVI where B8 and B4 have data and no cloud."""
    ds2, s2 = gdal_array(conn, scene, "s2")
    names = [ds2.GetRasterBand(i + 1).GetDescription() for i in range(ds2.RasterCount)]
    cloud = names.index("cloud_probability")
    reflectance = [i for i in range(len(names)) if i != cloud]
    tag2 = ds2.GetRasterBand(1).GetNoDataValue()
    s2_invalid = np.any(s2[reflectance] == tag2, axis=0)
    ds1, s1 = gdal_array(conn, scene, "s1")
    tag1 = ds1.GetRasterBand(1).GetNoDataValue()
    s1_invalid = np.any(np.isnan(s1) | (s1 == tag1), axis=0)
    cloud_cover = (s2[cloud] != tag2) & (s2[cloud] > threshold)
    cloudy = ~s2_invalid & cloud_cover
    b8, b4 = s2[names.index("B8")].astype(float), s2[names.index("B4")].astype(float)
    clear = (b8 != tag2) & (b4 != tag2) & ~cloud_cover  # NDVI: its own bands have data
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (b8 - b4) / (b8 + b4)
    rows = []
    h, w = b8.shape
    for row in range(0, h - size + 1, stride):
        for col in range(0, w - size + 1, stride):
            win = np.s_[row:row + size, col:col + size]
            valid = (~s2_invalid[win]).sum()
            used = clear[win] & np.isfinite(ndvi[win])
            rows.append((col, row, size, size,
                         cloudy[win].sum() / valid if valid else None,
                         (s2_invalid[win] | s1_invalid[win]).mean(),
                         ndvi[win][used].mean() if used.any() else None))
    return rows


@pytest.mark.parametrize("scene", [SCENE, CLOUDY_SCENE])
@pytest.mark.parametrize("size, stride", [(64, 57), (100, 100), (240, 1)])
def test_patches_match_numpy(ext, scene, size, stride):
    got = ext.execute("SELECT * FROM s12_patches(?, ?, ?)", (scene, size, stride)).fetchall()
    expected = patch_oracle(ext, scene, size, stride)
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    for g, e in zip(got, expected):
        for a, b in zip(g[4:], e[4:]):
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9, abs=1e-12), (g, e)


def test_patches_default_grid_and_the_authors_filter(ext, tp_db):
    # 240 px rasters: no 256 px patch fits, the default grid is empty.
    assert ext.execute("SELECT count(*) FROM s12_patches(?)", (SCENE,)).fetchone()[0] == 0
    kept = ext.execute("""SELECT s.scene_id, p.col, p.row FROM scenes s, s12_patches(s.scene_id, 64, 57) p
                          WHERE s.has_files AND p.cloud_fraction <= 0.001 AND p.nodata_fraction = 0""").fetchall()
    scenes = [r[0] for r in ext.execute("SELECT scene_id FROM scenes WHERE has_files ORDER BY 1")]
    expected = [(s, c, r) for s in scenes for (c, r, _, _, cloud, nodata, _) in patch_oracle(ext, s, 64, 57)
                if nodata == 0 and cloud <= 0.001]
    assert sorted(kept) == sorted(expected) and 0 < len(kept) < 8 * 16


def test_patches_follow_the_catalog_cloud_threshold(tp_db_copy):
    conn = load(tp_db_copy)
    conn.execute("UPDATE s12_meta SET value = '70' WHERE key = 'cloud_threshold'")
    got = conn.execute("SELECT cloud_fraction FROM s12_patches(?, 80, 80)", (CLOUDY_SCENE,)).fetchall()
    expected = patch_oracle(conn, CLOUDY_SCENE, 80, 80, threshold=70)
    assert [g[0] for g in got] == pytest.approx([e[4] for e in expected], rel=1e-12)


def test_pixels_match_gdal_and_osr(ext):
    ds, s1 = gdal_array(ext, SCENE, "s1")
    # A window across the swath edge: the last nodata pixel of row 100 and two valid ones.
    row = 100
    col = min(int(np.nonzero(np.isnan(s1[0, row]))[0].max()), s1.shape[2] - 3)
    rows = ext.execute("SELECT x, y, lon, lat, band, value FROM s12_pixels(?, 's1', ?, ?, 3, 2)", (SCENE, col, row)).fetchall()
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    assert len(rows) == 3 * 2 * len(names)
    lonlat = osr.SpatialReference()
    lonlat.ImportFromEPSG(4326)
    lonlat.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_lonlat = osr.CoordinateTransformation(ds.GetSpatialRef(), lonlat)
    g = ds.GetGeoTransform()
    expected = []
    for y in range(row, row + 2):
        for x in range(col, col + 3):
            lon, lat, _ = to_lonlat.TransformPoint(g[0] + (x + 0.5) * g[1], g[3] + (y + 0.5) * g[5])
            for b, name in enumerate(names):
                v = s1[b, y, x]
                expected.append((x, y, lon, lat, name, None if np.isnan(v) else float(v)))
    for got, want in zip(rows, expected):
        assert got[:2] == want[:2] and got[4] == want[4]
        assert got[2] == pytest.approx(want[2], abs=1e-9) and got[3] == pytest.approx(want[3], abs=1e-9)
        assert (got[5] is None) == (want[5] is None) and (got[5] is None or got[5] == pytest.approx(want[5]))
    assert any(r[5] is None for r in rows), "the window crosses the swath edge: nodata must be NULL"
    ints = ext.execute("SELECT value FROM s12_pixels(?, 's2', 120, 120, 1, 1) WHERE band = 'B8'", (SCENE,)).fetchone()[0]
    assert ints == int(gdal_array(ext, SCENE, "s2")[1][7, 120, 120])


def great_circle_oracle(footprints, lon, lat):
    """Distance (km) from a point to every footprint: 0 inside (ray casting in lon/lat), else the
    minimum over 2000 points along each edge's great circle."""
    def unit(lo, la):
        lo, la = np.radians(lo), np.radians(la)
        return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)
    p = unit(lon, lat)
    t = np.linspace(0, 1, 2000)[:, None]
    out = {}
    for scene_id, ring in footprints:
        ring = np.array(ring)
        inside = False
        for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:]):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        if inside:
            out[scene_id] = 0.0
            continue
        best = np.inf
        for a, b in zip(ring[:-1], ring[1:]):
            va, vb = unit(*a), unit(*b)
            omega = np.arccos(np.clip(va @ vb, -1, 1))
            points = (np.sin((1 - t) * omega) * va + np.sin(t * omega) * vb) / np.sin(omega)
            best = min(best, np.arccos(np.clip(points @ p, -1, 1)).min())
        out[scene_id] = best * 6371.0088
    return out


def test_nearest_matches_a_brute_force_great_circle_search(ext):
    footprints = [(i, json.loads(f)["coordinates"][0]) for i, f in ext.execute("SELECT scene_id, footprint FROM scenes")]
    rng = np.random.default_rng(11)
    points = [(-47.69, -1.92), (11.39, 47.26), (179.9, 0.0)] + [(rng.uniform(-180, 180), rng.uniform(-70, 75)) for _ in range(5)]
    for lon, lat in points:
        distances = great_circle_oracle(footprints, lon, lat)
        got = ext.execute("SELECT scene_id, distance_km FROM s12_nearest(?, ?, 10)", (lon, lat)).fetchall()
        expected = sorted(distances.items(), key=lambda kv: (kv[1], kv[0]))[:10]
        for (gid, gkm), (eid, ekm) in zip(got, expected):
            assert gkm == pytest.approx(ekm, abs=0.02), (lon, lat, got, expected)
            assert gid == eid or abs(distances[gid] - ekm) < 0.02, (lon, lat, got, expected)
        assert [d for _, d in got] == sorted(d for _, d in got)


def test_nearest_rebuilds_when_the_catalog_changes(tp_db_copy):
    conn = load(tp_db_copy)
    first = conn.execute("SELECT scene_id FROM s12_nearest(-47.69, -1.92, 1)").fetchone()[0]
    assert conn.execute("SELECT distance_km FROM s12_nearest(-47.69, -1.92, 1)").fetchone()[0] == 0
    other = sqlite3.connect(tp_db_copy)
    other.execute("DELETE FROM scenes WHERE scene_id = ?", (first,))
    other.commit()
    assert conn.execute("SELECT scene_id FROM s12_nearest(-47.69, -1.92, 1)").fetchone()[0] != first


def ogr_intersects(footprint, geometry):
    a = ogr.CreateGeometryFromJson(footprint)
    b = ogr.CreateGeometryFromJson(geometry) if geometry.startswith("{") else ogr.CreateGeometryFromWkt(geometry)
    return int(a.Intersects(b))


def test_intersects_matches_ogr_geos(ext):
    rng = np.random.default_rng(5)
    checked = 0
    for scene_id, footprint, lon, lat in ext.execute("SELECT scene_id, footprint, center_lon, center_lat FROM scenes WHERE has_files"):
        for _ in range(25):
            x, y = lon + rng.normal(0, 0.15), lat + rng.normal(0, 0.15)
            d = abs(rng.normal(0, 0.05))
            candidates = [
                f"POINT({x} {y})",
                f"POLYGON(({x} {y}, {x + d} {y}, {x + d} {y + d}, {x} {y + d}, {x} {y}))",
                f"LINESTRING({x} {y}, {lon} {lat + 1})",
                json.dumps({"type": "Point", "coordinates": [x, y]}),
                json.dumps({"type": "MultiPolygon", "coordinates": [[[[x, y], [x + d, y], [x, y + d], [x, y]]]]}),
            ]
            for geometry in candidates:
                got = ext.execute("SELECT s12_intersects(?, ?)", (scene_id, geometry)).fetchone()[0]
                assert got == ogr_intersects(footprint, geometry), (scene_id, geometry)
                checked += 1
    assert checked == 8 * 25 * 5


def decode_png(blob, tmp_path):
    path = tmp_path / "q.png"
    path.write_bytes(blob)
    ds = gdal.Open(str(path))
    assert ds.GetDriver().ShortName == "PNG" and ds.RasterCount == 4
    return ds.ReadAsArray()


def round_half_up(x):
    return np.floor(x + 0.5)


def stretch(values, valid):
    low, high = np.percentile(values[valid].astype(float), [2, 98])
    return np.clip(round_half_up((values - low) / (high - low) * 255), 0, 255).astype(np.uint8)


def test_png_rgb_is_the_2_98_stretch_with_transparent_nodata(ext, tmp_path):
    _, s2 = gdal_array(ext, SCENE, "s2")
    image = decode_png(ext.execute("SELECT s12_png(?, 'rgb', 10, 0, 200, 150)", (SCENE,)).fetchone()[0], tmp_path)
    rgb = s2[[3, 2, 1], 0:150, 10:210]
    valid = np.all(rgb != 0, axis=0)
    assert (~valid).any() and valid.any()
    assert np.array_equal(image[3], np.where(valid, 255, 0))
    for k in range(3):
        assert np.array_equal(image[k][valid], stretch(rgb[k], np.all(rgb != 0, axis=0))[valid])


def test_png_worldcover_uses_the_official_palette(ext, tmp_path):
    _, classes = gdal_array(ext, SCENE, "worldcover")
    image = decode_png(ext.execute("SELECT s12_png(?, 'worldcover', 0, 0, 240, 240)", (SCENE,)).fetchone()[0], tmp_path)
    palette = {10: "006400", 20: "ffbb22", 30: "ffff4c", 40: "f096ff", 50: "fa0000", 60: "b4b4b4",
               70: "f0f0f0", 80: "0064c8", 90: "0096a0", 95: "00cf75", 100: "fae6a0"}
    seen = set()
    for value, colour in palette.items():
        where = classes == value
        if where.any():
            seen.add(value)
            assert all(np.all(image[k][where] == int(colour[2 * k:2 * k + 2], 16)) for k in range(3))
            assert np.all(image[3][where] == 255)
    assert len(seen) >= 3


def test_png_ndvi_colours_minus_one_to_one_and_vv_is_grey(ext, tmp_path):
    _, s2 = gdal_array(ext, CLOUDY_SCENE, "s2")
    image = decode_png(ext.execute("SELECT s12_png(?, 'ndvi', 0, 0, 240, 240)", (CLOUDY_SCENE,)).fetchone()[0], tmp_path)
    b8, b4 = s2[7].astype(float), s2[3].astype(float)
    ndvi = (b8 - b4) / (b8 + b4)
    level = np.clip(round_half_up((ndvi + 1) / 2 * 255), 0, 255)
    ramp = np.array([[165, 0, 38], [244, 109, 67], [255, 255, 191], [102, 189, 99], [0, 104, 55]], float)
    t = level / 255 * 4
    i = np.minimum(np.floor(t).astype(int), 3)
    f = t - i
    for k in range(3):
        assert np.array_equal(image[k], round_half_up(ramp[i, k] + (ramp[i + 1, k] - ramp[i, k]) * f).astype(np.uint8))
    _, s1 = gdal_array(ext, SCENE, "s1")
    grey = decode_png(ext.execute("SELECT s12_png(?, 'VV', 0, 0, 240, 240)", (SCENE,)).fetchone()[0], tmp_path)
    valid = ~np.isnan(s1[0])
    assert np.array_equal(grey[0], grey[1]) and np.array_equal(grey[3], np.where(valid, 255, 0))
    low, high = np.percentile(s1[0][valid].astype(np.float32), [2, 98])
    assert np.abs(grey[0][valid].astype(int) - np.clip(round_half_up((s1[0][valid] - low) / (high - low) * 255), 0, 255)).max() <= 1


def test_indices_lists_what_s12_index_computes(ext):
    rows = ext.execute("SELECT name, formula, bands, modality FROM s12_indices").fetchall()
    assert len(rows) == 12 and {r[0] for r in rows} >= {"ndvi", "ndwi", "mndwi", "ndwi_11", "ndwi_12", "ndre", "gndvi", "evi", "savi", "nbr", "cr", "rvi"}
    for name, formula, bands, modality in rows:
        assert all(b in formula for b in bands.split(",")), (name, formula, bands)
        assert modality in ("s1", "s2")
        assert ext.execute("SELECT s12_index_mean(?, ?) IS NOT NULL", (SCENE, name)).fetchone()[0] == 1


@pytest.mark.parametrize("sql, message", [
    ("SELECT * FROM s12_patches", "s12_patches: argument 'scene' is missing: call it as s12_patches(scene [, size, stride])"),
    ("SELECT * FROM s12_patches(390, 0)", "s12_patches: size must be 1..65536 px, got 0"),
    ("SELECT * FROM s12_patches(390, 64, -3)", "s12_patches: stride must be 1..65536 px, got -3"),
    ("SELECT * FROM s12_patches('720_1868')", "s12_patches: scene 720_1868 has no s1 or s2 file (none on disk)"),
    ("SELECT * FROM s12_pixels(390, 's2', 0, 0, 100000, 100000)", "s12_pixels: 100000 x 100000 px x 13 bands is 130000000000 rows, over the limit of 4194304"),
    ("SELECT * FROM s12_pixels(390, 's2', 230, 0, 20, 1)", "outside the raster (240 x 240 px)"),
    ("SELECT * FROM s12_nearest(0, 0, 0)", "s12_nearest: k must be 1..100000, got 0"),
    ("SELECT * FROM s12_nearest(0, 91)", "s12_nearest: (0, 91) is not a WGS84 lon/lat position"),
    ("SELECT s12_intersects(390, 'POINT(1 2')", "s12_intersects: not valid WKT or GeoJSON"),
    ("SELECT s12_intersects(390, '{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 1]]]}')", "ring must be closed"),
    ("SELECT s12_png(390, 'thermal', 0, 0, 10, 10)", "s12_png: cannot draw 'thermal'"),
    ("SELECT s12_png(390, 'rgb', 0, 0, 5000, 5000)", "s12_png: 5000 x 5000 px is over the quicklook limit"),
])
def test_table_function_errors_name_the_function_and_the_value(ext, sql, message):
    with pytest.raises(sqlite3.OperationalError) as error:
        ext.execute(sql).fetchall()
    assert message in str(error.value)


def test_null_arguments_give_no_rows_or_null(ext):
    assert ext.execute("SELECT count(*) FROM s12_patches(NULL)").fetchone()[0] == 0
    assert ext.execute("SELECT count(*) FROM s12_pixels(390, NULL, 0, 0, 1, 1)").fetchone()[0] == 0
    assert ext.execute("SELECT count(*) FROM s12_nearest(NULL, 0)").fetchone()[0] == 0
    assert ext.execute("SELECT s12_png(390, NULL, 0, 0, 1, 1), s12_intersects(390, NULL)").fetchone() == (None, None)


def test_file_reading_tables_are_directonly(tp_db, tmp_path):
    db = tmp_path / "foreign.db"
    shutil.copy(tp_db, db)
    with sqlite3.connect(db) as plain:
        plain.execute("CREATE VIEW patches AS SELECT * FROM s12_patches(390, 64, 64)")
        plain.execute("CREATE VIEW quick AS SELECT s12_png(390, 'rgb', 0, 0, 8, 8) AS png")
        plain.execute("CREATE VIEW near AS SELECT * FROM s12_nearest(0, 0, 1)")
    conn = load(db)
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of virtual table \"s12_patches\""):
        conn.execute("SELECT * FROM patches").fetchall()
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of s12_png"):
        conn.execute("SELECT * FROM quick").fetchall()
    assert len(conn.execute("SELECT * FROM near").fetchall()) == 1


def test_sql_verb_prints_columns_and_writes_blobs(tp_db, tmp_path):
    out = run("sql", tp_db, "SELECT 1 AS one; SELECT name FROM s12_indices WHERE name = 'ndvi'").stdout
    assert out.split() == ["one", "---", "1", "name", "----", "ndvi"]
    npy = tmp_path / "w.npy"
    run("sql", tp_db, f"SELECT s12_window({SCENE}, 's2', 'B8', 5, 6, 30, 20)", "--blob", npy)
    conn = sqlite3.connect(tp_db)
    _, s2 = gdal_array(conn, SCENE, "s2")
    assert np.array_equal(np.load(npy)[0], s2[7, 6:26, 5:35])
    bad = run("sql", tp_db, "SELECT s12_window(99999, 's2', 'B4', 0, 0, 1, 1)", check=False)
    assert bad.returncode == 2 and "s12_window: no scene 99999 in the catalog" in bad.stderr
    missing = run("sql", tmp_path / "nope.db", "SELECT 1", check=False)
    assert missing.returncode == 2 and "cannot open" in missing.stderr and not (tmp_path / "nope.db").exists()
