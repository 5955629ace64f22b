"""s12_window, s12_pixel, s12_value and s12_pixels (src/sql/functions/s12_window.rs, s12_pixel.rs, s12_value.rs, s12_pixels.rs),
checked against GDAL + numpy reading the same files and OSR placing the pixels."""
import io

import numpy as np
import pytest
from osgeo import osr

from oracles import SCENE, gdal_array


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


def test_pixels_of_a_window_taller_than_a_chunk_match_gdal(ext):
    """s12_pixels reads 32 window rows at a time: 70 rows cross two chunk boundaries."""
    ds, s2 = gdal_array(ext, SCENE, "s2")
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    tag = ds.GetRasterBand(1).GetNoDataValue()
    rows = ext.execute("SELECT x, y, band, value FROM s12_pixels(?, 's2', 7, 3, 3, 70)", (SCENE,)).fetchall()
    expected = [(x, y, name, None if s2[b, y, x] == tag else int(s2[b, y, x]))
                for y in range(3, 73) for x in range(7, 10) for b, name in enumerate(names)]
    assert rows == expected
