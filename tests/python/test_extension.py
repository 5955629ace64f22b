"""The loadable extension (dist/sen12lite.so) in Debian's Python and the stock sqlite3 shell,
checked against GDAL + numpy reading the same files."""
import io
import json
import os
import shutil
import sqlite3
import subprocess

import numpy as np
import pytest
from osgeo import gdal, osr

from conftest import EXT, load

gdal.UseExceptions()
SCENE = 390  # 29_390: has a swath edge (nodata) in the synthetic tree


def path_of(conn, scene, modality):
    root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    rel = conn.execute("SELECT path FROM files WHERE scene_id = ? AND modality = ?", (scene, modality)).fetchone()[0]
    return os.path.join(root, rel)


def gdal_array(conn, scene, modality):
    ds = gdal.Open(path_of(conn, scene, modality))
    return ds, ds.ReadAsArray()


def test_window_is_npy_in_the_source_type(ext):
    ds, s2 = gdal_array(ext, SCENE, "s2")
    blob = ext.execute("SELECT s12_window(?, 's2', 'B4,B3,B2', 10, 20, 64, 32)", (SCENE,)).fetchone()[0]
    array = np.load(io.BytesIO(blob))
    assert array.dtype == np.uint16 and array.shape == (3, 32, 64)
    assert np.array_equal(array, s2[[3, 2, 1], 20:52, 10:74])
    every = np.load(io.BytesIO(ext.execute("SELECT s12_window('29_390', 's1', '*', 0, 0, 50, 40)").fetchone()[0]))
    _, s1 = gdal_array(ext, SCENE, "s1")
    assert every.dtype == np.float32 and np.array_equal(every, s1[:, :40, :50], equal_nan=True)
    by_number = np.load(io.BytesIO(ext.execute("SELECT s12_window(?, 's2', 4, 0, 0, 5, 5)", (SCENE,)).fetchone()[0]))
    assert np.array_equal(by_number[0], s2[3, :5, :5])


def test_pixel_and_value_match_gdal_with_null_at_nodata(ext):
    ds, s2 = gdal_array(ext, SCENE, "s2")
    b8 = s2[7]
    rows, cols = np.nonzero(b8 == 0)
    assert rows.size, "the fixture scene must have a nodata edge"
    assert ext.execute("SELECT s12_pixel(?, 's2', 'B8', ?, ?)", (SCENE, int(cols[0]), int(rows[0]))).fetchone()[0] is None
    valid_r, valid_c = np.nonzero(b8 != 0)
    r, c = int(valid_r[-1]), int(valid_c[-1])
    assert ext.execute("SELECT s12_pixel(?, 's2', 'B8', ?, ?)", (SCENE, c, r)).fetchone()[0] == int(b8[r, c])
    # The WGS84 position of that pixel's centre, computed with OSR, reads the same pixel.
    g = ds.GetGeoTransform()
    x, y = g[0] + (c + 0.5) * g[1], g[3] + (r + 0.5) * g[5]
    lonlat = osr.SpatialReference()
    lonlat.ImportFromEPSG(4326)
    lonlat.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat, _ = osr.CoordinateTransformation(ds.GetSpatialRef(), lonlat).TransformPoint(x, y)
    assert ext.execute("SELECT s12_value(?, 's2', 'B8', ?, ?)", (SCENE, lon, lat)).fetchone()[0] == int(b8[r, c])
    assert ext.execute("SELECT s12_value(?, 's2', 'B8', 0, 0)", (SCENE,)).fetchone()[0] is None
    vv = ext.execute("SELECT s12_pixel(?, 's1', 'VV', ?, ?)", (SCENE, c, r)).fetchone()[0]
    _, s1 = gdal_array(ext, SCENE, "s1")
    assert vv is None if np.isnan(s1[0, r, c]) else vv == pytest.approx(float(s1[0, r, c]))


def test_stats_match_numpy_whole_and_windowed(ext):
    _, s2 = gdal_array(ext, SCENE, "s2")
    for sql, values in [
        ("SELECT s12_stats(?, 's2', 'B8')", s2[7]),
        ("SELECT s12_stats(?, 's2', 'B8', 0, 0, 100, 60)", s2[7, :60, :100]),
    ]:
        got = json.loads(ext.execute(sql, (SCENE,)).fetchone()[0])
        v = values[values != 0].astype(np.float64)
        assert got["count"] == v.size
        assert (got["min"], got["max"]) == (v.min(), v.max())
        assert got["mean"] == pytest.approx(v.mean(), rel=1e-12) and got["stddev"] == pytest.approx(v.std(), rel=1e-9)


def ndvi(s2):
    b4, b8 = s2[3].astype(np.float64), s2[7].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (b8 - b4) / (b8 + b4)


def test_index_array_and_means_match_numpy_and_the_catalog(ext):
    _, s2 = gdal_array(ext, SCENE, "s2")
    blob = ext.execute("SELECT s12_index(?, 'ndvi', 0, 0, 120, 90)", (SCENE,)).fetchone()[0]
    got = np.load(io.BytesIO(blob))
    expected = ndvi(s2)[:90, :120]
    expected[(s2[3, :90, :120] == 0) | (s2[7, :90, :120] == 0)] = np.nan
    assert got.dtype == np.float32 and np.allclose(got, expected.astype(np.float32), equal_nan=True)
    for scene, catalog in ext.execute("SELECT scene_id, ndvi_mean FROM scenes WHERE has_files").fetchall():
        assert ext.execute("SELECT s12_index_mean(?, 'ndvi')", (scene,)).fetchone()[0] == pytest.approx(catalog, rel=1e-12)
    # A window, another index: its own bands (B8A, B5) have data, no cloud; recomputed in numpy.
    w = s2[:, 30:130, 40:200].astype(np.float64)
    clear = (w[8] != 0) & (w[4] != 0) & ~((w[12] != 0) & (w[12] > 40))
    with np.errstate(invalid="ignore", divide="ignore"):
        ndre = (w[8] - w[4]) / (w[8] + w[4])
    want = ndre[clear & np.isfinite(ndre)].mean()
    assert ext.execute("SELECT s12_index_mean(?, 'NDRE', 40, 30, 160, 100)", (SCENE,)).fetchone()[0] == pytest.approx(want, rel=1e-12)
    _, s1 = gdal_array(ext, SCENE, "s1")
    vv, vh = s1[0].astype(np.float64), s1[1].astype(np.float64)
    ok = ~np.isnan(vv) & ~np.isnan(vh)
    assert ext.execute("SELECT s12_index_mean(?, 'cr')", (SCENE,)).fetchone()[0] == pytest.approx((vh - vv)[ok].mean(), rel=1e-9)
    lin_vv, lin_vh = 10 ** (vv / 10), 10 ** (vh / 10)
    rvi = (4 * lin_vh / (lin_vv + lin_vh))[ok].mean()
    assert ext.execute("SELECT s12_index_mean(?, 'rvi')", (SCENE,)).fetchone()[0] == pytest.approx(rvi, rel=1e-9)


@pytest.mark.parametrize("sql, message", [
    ("SELECT s12_window(390, 's2', 'B10', 0, 0, 10, 10)",
     "s12_window: band 'B10' is not in s2 (B1, B2, B3, B4, B5, B6, B7, B8, B8A, B9, B11, B12, cloud_probability)"),
    ("SELECT s12_window(390, 's2', 'B4', 230, 0, 20, 10)", "outside the raster (240 x 240 px)"),
    ("SELECT s12_window(390, 's2', '*', 0, 0, 100000, 100000)", "over the limit of 67108864 values"),
    ("SELECT s12_window(390, 's2', 'B4', 0, 0, -1, 10)", "window size must be positive"),
    ("SELECT s12_pixel(99999, 's2', 'B4', 0, 0)", "s12_pixel: no scene 99999 in the catalog"),
    ("SELECT s12_pixel('720_1868', 's2', 'B4', 0, 0)", "s12_pixel: scene 720_1868 has no 's2' file (none on disk)"),
    ("SELECT s12_stats(390, 'radar', 1)", "s12_stats: scene 29_390 has no 'radar' file (has dsm, s1, s2, worldcover)"),
    ("SELECT s12_index_mean(390, 'foo')", "s12_index_mean: unknown index 'foo' (known: ndvi"),
    ("SELECT s12_pixel(390, 's2', 'B4', 'x', 0)", "s12_pixel: col must be an integer, got 'x'"),
    ("SELECT s12_value(390, 's2', 'B4', 500, 0)", "s12_value: (500, 0) is not a WGS84 lon/lat position"),
    ("SELECT s12_window(x'00', 's2', 'B4', 0, 0, 1, 1)", "s12_window: scene must be a scene_id or a name, got a 1-byte blob"),
    ("SELECT s12_season('yesterday', 10)", "s12_season: time must be ISO-8601 text or Unix milliseconds, got 'yesterday'"),
    ("SELECT s12_window(390, 's2', 'B4''; DROP TABLE scenes; --', 0, 0, 1, 1)", "is not in s2"),
])
def test_errors_name_the_function_and_the_value(ext, sql, message):
    with pytest.raises(sqlite3.OperationalError) as error:
        ext.execute(sql).fetchone()
    assert message in str(error.value)
    assert ext.execute("SELECT count(*) FROM scenes").fetchone()[0] == 2319


def test_null_arguments_give_null(ext):
    row = ext.execute("""SELECT s12_window(NULL, 's2', 'B4', 0, 0, 1, 1), s12_pixel(390, NULL, 'B4', 0, 0),
                                s12_value(390, 's2', 'B4', NULL, 0), s12_stats(390, 's2', NULL), s12_index(390, 'ndvi', 0, NULL, 1, 1),
                                s12_index_mean(NULL, 'ndvi'), s12_season(NULL, 10)""").fetchone()
    assert row == (None,) * 7


def test_file_functions_are_directonly_and_pure_ones_are_not(tp_db, tmp_path):
    db = tmp_path / "foreign.db"
    shutil.copy(tp_db, db)
    with sqlite3.connect(db) as plain:
        plain.execute("CREATE VIEW sneaky AS SELECT s12_window(390, 's2', 'B4', 0, 0, 1, 1) AS w")
        plain.execute("CREATE VIEW seasons AS SELECT s12_season('2020-01-15', -30) AS s")
    conn = load(db)
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of s12_window"):
        conn.execute("SELECT * FROM sneaky").fetchall()
    assert conn.execute("SELECT * FROM seasons").fetchone() == ("summer",)


def test_loads_in_the_stock_shell_also_renamed(tp_db, tmp_path):
    """The extension is two files: the entry library finds sen12lite.libs/ beside its real path,
    so a renamed copy in a copy of the folder loads, and so does a symlink from anywhere."""
    dist = tmp_path / "dist"
    shutil.copytree(os.path.dirname(EXT), dist)
    renamed = dist / "s12x.so"
    shutil.copy(EXT, renamed)
    linked = tmp_path / "elsewhere.so"
    linked.symlink_to(EXT)
    for library in (EXT, str(renamed), str(linked)):
        out = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {library}", "SELECT s12_version(), s12_index_mean(390, 'ndvi') = ndvi_mean FROM scenes WHERE scene_id = 390"],
                             capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.strip() == "v0.1.0|1", out.stderr
    debug = subprocess.run(["/usr/bin/sqlite3", ":memory:", f".load {EXT}", "SELECT s12_debug()"], capture_output=True, text=True).stdout
    assert "SQLite 3.40" in debug and "GDAL 3." in debug and "interruptible: no" in debug
    alone = tmp_path / "alone" / "sen12lite.so"
    alone.parent.mkdir()
    shutil.copy(EXT, alone)
    out = subprocess.run(["/usr/bin/sqlite3", ":memory:", f".load {alone}"], capture_output=True, text=True)
    assert out.returncode != 0 and "sen12lite: cannot load the implementation" in out.stderr, out.stderr
    # GDAL prints nothing on the host's stderr and writes no .aux.xml next to the data.
    bad = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {EXT}", "SELECT s12_stats(390, 's2', 'B4')"], capture_output=True, text=True)
    assert "ERROR" not in bad.stderr
    root = sqlite3.connect(tp_db).execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    assert not list(__import__("pathlib").Path(root).rglob("*.aux.xml"))


def test_loads_into_apsw_with_its_own_newer_sqlite(tp_db):
    import apsw  # installed by `make pylib` into build/pylib
    assert apsw.sqlite_lib_version() > "3.40.1"
    conn = apsw.Connection(str(tp_db))
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    row = list(conn.execute("SELECT s12_version(), s12_index_mean(390, 'ndvi') = ndvi_mean FROM scenes WHERE scene_id = 390"))
    assert row == [("v0.1.0", 1)]
    assert list(conn.execute("SELECT count(*) FROM s12_patches(390, 120, 120)")) == [(4,)]
