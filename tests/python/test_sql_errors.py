"""Every s12_ function's bad input: one table of calls and the error each gives (naming the function
and the value), NULL arguments, and which functions a view or trigger of a foreign catalog may call."""
import shutil
import sqlite3

import pytest

from conftest import load


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
    ("SELECT s12_window(390.5, 's2', 'B4', 0, 0, 1, 1)", "s12_window: scene must be a scene_id or a name, got 390.5"),
    ("SELECT s12_season('yesterday', 10)", "s12_season: time must be ISO-8601 text or Unix milliseconds, got 'yesterday'"),
    ("SELECT s12_window(390, 's2', 'B4''; DROP TABLE scenes; --', 0, 0, 1, 1)", "is not in s2"),
    ("SELECT * FROM s12_patches", "s12_patches: argument 'scene' is missing: call it as s12_patches(scene [, size, stride])"),
    ("SELECT * FROM s12_patches(390, 0)", "s12_patches: size must be 1..65536 px, got 0"),
    ("SELECT * FROM s12_patches(390, 64, -3)", "s12_patches: stride must be 1..65536 px, got -3"),
    ("SELECT * FROM s12_patches('720_1868')", "s12_patches: scene 720_1868 has no s1 or s2 file (none on disk)"),
    ("SELECT * FROM s12_pixels(390, 's2', 0, 0, 100000, 100000)", "s12_pixels: 100000 x 100000 px x 13 bands is 130000000000 rows, over the limit of 4194304"),
    ("SELECT * FROM s12_pixels(390, 's2', 230, 0, 20, 1)", "outside the raster (240 x 240 px)"),
    ("SELECT * FROM s12_nearest(0, 0, 0)", "s12_nearest: k must be 1..100000, got 0"),
    ("SELECT * FROM s12_nearest(0, 91)", "s12_nearest: (0, 91) is not a WGS84 lon/lat position"),
    ("SELECT s12_intersects(390, 'POINT(1 2')", "s12_intersects: not valid WKT or GeoJSON"),
    ("SELECT * FROM s12_intersecting('POINT(200 2)')", "s12_intersecting: (200, 2) is not a WGS84 lon/lat position"),
    ("SELECT * FROM s12_intersecting(42)", "s12_intersecting: geometry must be text, got 42"),
    ("SELECT s12_intersects(390, '{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 1]]]}')", "ring must be closed"),
    ("SELECT s12_png(390, 'thermal', 0, 0, 10, 10)", "s12_png: cannot draw 'thermal'"),
    ("SELECT s12_png(390, 'rgb', 0, 0, 5000, 5000)", "s12_png: 5000 x 5000 px is over the quicklook limit"),
    ("SELECT s12_band_summary(scene_id, 's2', 20) FROM scenes", "s12_band_summary: band 20 is not in s2 (1..13)"),
    ("SELECT s12_band_summary(scene_id, 's2', 4, '[0.5, 2]') FROM scenes",
     "s12_band_summary: quantiles must be fractions in [0, 1] (one or a JSON array), got 2"),
    ("SELECT s12_band_summary(scene_id, 's2', 4, x'00') FROM scenes",
     "s12_band_summary: quantiles must be fractions in [0, 1] (one or a JSON array), got a 1-byte blob"),
    ("SELECT s12_normalization(scene_id, 's1', 'VV,HH') FROM scenes", "s12_normalization: band 'HH' is not in s1 (VV_sigma0"),
    ("SELECT s12_normalization(x'00', 's1', 'VV') FROM scenes",
     "s12_normalization: scene must be a scene_id or a name, got a 1-byte blob"),
])
def test_errors_name_the_function_and_the_value(ext, sql, message):
    with pytest.raises(sqlite3.OperationalError) as error:
        ext.execute(sql).fetchall()
    assert message in str(error.value)
    assert ext.execute("SELECT count(*) FROM scenes").fetchone()[0] == 2319


def test_null_arguments_give_null(ext):
    row = ext.execute("""SELECT s12_window(NULL, 's2', 'B4', 0, 0, 1, 1), s12_pixel(390, NULL, 'B4', 0, 0),
                                s12_value(390, 's2', 'B4', NULL, 0), s12_stats(390, 's2', NULL), s12_index(390, 'ndvi', 0, NULL, 1, 1),
                                s12_index_mean(NULL, 'ndvi'), s12_season(NULL, 10)""").fetchone()
    assert row == (None,) * 7


def test_null_arguments_give_no_rows_or_null(ext):
    assert ext.execute("SELECT count(*) FROM s12_patches(NULL)").fetchone()[0] == 0
    assert ext.execute("SELECT count(*) FROM s12_pixels(390, NULL, 0, 0, 1, 1)").fetchone()[0] == 0
    assert ext.execute("SELECT count(*) FROM s12_nearest(NULL, 0)").fetchone()[0] == 0
    assert ext.execute("SELECT count(*) FROM s12_intersecting(NULL)").fetchone()[0] == 0
    assert ext.execute("SELECT s12_png(390, NULL, 0, 0, 1, 1), s12_intersects(390, NULL)").fetchone() == (None, None)
    assert ext.execute("SELECT s12_band_summary(scene_id, 's2', 4, NULL), s12_normalization(scene_id, 's2', NULL) "
                       "FROM scenes").fetchone() == (None, None)


def foreign_catalog(tp_db, tmp_path, views):
    """A copy of the catalog whose author added `views` (name -> SELECT), with the extension loaded."""
    db = tmp_path / "foreign.db"
    shutil.copy(tp_db, db)
    with sqlite3.connect(db) as plain:
        for name, select in views.items():
            plain.execute(f"CREATE VIEW {name} AS {select}")
    return load(db)


def test_file_functions_are_directonly_and_pure_ones_are_not(tp_db, tmp_path):
    conn = foreign_catalog(tp_db, tmp_path, {"sneaky": "SELECT s12_window(390, 's2', 'B4', 0, 0, 1, 1) AS w",
                                             "seasons": "SELECT s12_season('2020-01-15', -30) AS s"})
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of s12_window"):
        conn.execute("SELECT * FROM sneaky").fetchall()
    assert conn.execute("SELECT * FROM seasons").fetchone() == ("summer",)


def test_file_reading_tables_are_directonly(tp_db, tmp_path):
    conn = foreign_catalog(tp_db, tmp_path, {"grid_view": "SELECT * FROM s12_patches(390, 64, 64)",
                                             "quick": "SELECT s12_png(390, 'rgb', 0, 0, 8, 8) AS png",
                                             "near": "SELECT * FROM s12_nearest(0, 0, 1)"})
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of virtual table \"s12_patches\""):
        conn.execute("SELECT * FROM grid_view").fetchall()
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of s12_png"):
        conn.execute("SELECT * FROM quick").fetchall()
    assert len(conn.execute("SELECT * FROM near").fetchall()) == 1
