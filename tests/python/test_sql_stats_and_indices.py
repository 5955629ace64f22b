"""s12_stats, s12_index, s12_index_mean and s12_indices (src/sql/functions/s12_stats.rs, s12_index.rs, s12_indices.rs),
checked against numpy over the pixels GDAL reads."""
import io
import json

import numpy as np
import pytest

from oracles import SCENE, gdal_array


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


def test_indices_lists_what_s12_index_computes(ext):
    rows = ext.execute("SELECT name, formula, bands, modality FROM s12_indices").fetchall()
    assert len(rows) == 12 and {r[0] for r in rows} >= {"ndvi", "ndwi", "mndwi", "ndwi_11", "ndwi_12", "ndre", "gndvi", "evi", "savi", "nbr", "cr", "rvi"}
    for name, formula, bands, modality in rows:
        assert all(b in formula for b in bands.split(",")), (name, formula, bands)
        assert modality in ("s1", "s2")
        assert ext.execute("SELECT s12_index_mean(?, ?) IS NOT NULL", (SCENE, name)).fetchone()[0] == 1
