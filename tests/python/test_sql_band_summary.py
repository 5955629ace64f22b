"""s12_band_summary and s12_normalization (src/sql/functions/s12_band_summary.rs, s12_normalization.rs): statistics of
a band over any subset of scenes, from the catalog alone, against numpy over the concatenated valid
pixels of the same subset read by GDAL — SEN12TP (UInt16 with a nodata tag, Float32 with NaN) and
SEN12MS re-encoded as the real files come (S2 Int16, S1 Float64, with NaN holes)."""
import json
import math
import shutil
import sqlite3

import numpy as np
import pytest
from osgeo import gdal

from conftest import BEFORE_VERSION_4, ingest_tree, load, older_schema, run, synth_tree
from oracles import path_of, re_encoded

gdal.UseExceptions()
ALPHA = 0.01  # the sketch's relative accuracy (src/raster/sketch.rs)


def band_index(ds, name):
    """GDAL's band number of a band name (S1's 'VV' is the file's 'VV_sigma0')."""
    for i in range(1, ds.RasterCount + 1):
        if ds.GetRasterBand(i).GetDescription().lower() in (name.lower(), f"{name.lower()}_sigma0"):
            return i
    return int(name)


def valid_pixels(conn, scenes, modality, band):
    """The valid values of one band in the files of `scenes`, concatenated (the oracle)."""
    parts = []
    for scene in scenes:
        if not conn.execute("SELECT 1 FROM files WHERE scene_id = ? AND modality = ?", (scene, modality)).fetchone():
            continue
        ds = gdal.Open(path_of(conn, scene, modality))
        raster = ds.GetRasterBand(band_index(ds, str(band)))
        values = raster.ReadAsArray().astype(np.float64).ravel()
        nodata = raster.GetNoDataValue()
        parts.append(values[~np.isnan(values) & ((values != nodata) if nodata is not None else True)])
    return np.concatenate(parts) if parts else np.array([])


def check(summary, values, quantiles=(0.02, 0.5, 0.98)):
    """Exact moments (up to rounding) and each quantile within the sketch's stated bound: ALPHA times
    the larger magnitude of the two values numpy interpolates between."""
    assert summary["count"] == values.size
    if values.size == 0:
        assert summary["min"] is None and summary["mean"] is None and summary["p50"] is None
        return
    assert (summary["min"], summary["max"]) == (values.min(), values.max())
    assert math.isclose(summary["mean"], values.mean(), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(summary["stddev"], values.std(), rel_tol=1e-9)
    ordered = np.sort(values)
    for q in quantiles:
        h = q * (values.size - 1)
        lower, upper = ordered[math.floor(h)], ordered[min(math.floor(h) + 1, values.size - 1)]
        key = f"p{round(q * 100):02d}" if abs(q * 100 - round(q * 100)) < 1e-9 else f"p{q * 100:g}"
        exact = np.quantile(values, q)
        assert abs(summary[key] - exact) <= ALPHA * max(abs(lower), abs(upper)) + 1e-9, (key, summary[key], exact)


def scene_ids(conn, where):
    return [r[0] for r in conn.execute(f"SELECT scene_id FROM scenes WHERE {where} ORDER BY scene_id")]


@pytest.fixture(scope="module")
def tp(tp_db):
    return load(tp_db)


@pytest.fixture(scope="module")
def ms(ms_tree, tmp_path_factory):
    """SEN12MS as its files come: S2 Int16, S1 Float64 with NaN holes (a strip in each patch)."""
    tree = re_encoded(ms_tree, tmp_path_factory.mktemp("ms-real") / "data", {"s1": gdal.GDT_Float64, "s2": gdal.GDT_Int16})
    for path in sorted(tree.rglob("*_s1_*.tif")):
        ds = gdal.Open(str(path), gdal.GA_Update)
        strip = ds.GetRasterBand(1).ReadAsArray()
        strip[:5, :] = np.nan
        ds.GetRasterBand(1).WriteArray(strip)
        ds = None
    return load(ingest_tree(tmp_path_factory, tree))


def test_sen12tp_statistics_by_split_equal_numpy_over_the_same_pixels(tp):
    rows = tp.execute("SELECT split, s12_band_summary(scene_id, 's2', 'B4') FROM scenes WHERE split IS NOT NULL "
                      "GROUP BY split ORDER BY split").fetchall()
    assert [r[0] for r in rows] == ["test", "train"]
    for split, text in rows:
        summary = json.loads(text)
        scenes = scene_ids(tp, f"split = '{split}'")
        with_files = scene_ids(tp, f"split = '{split}' AND has_files")
        assert (summary["files"], summary["missing"]) == (len(with_files), len(scenes) - len(with_files))
        check(summary, valid_pixels(tp, with_files, "s2", "B4"))


@pytest.mark.parametrize("modality, band", [("s1", "VV"), ("s1", 2), ("dsm", "DSM"), ("s2", 13)])
def test_float_bands_with_nan_and_bands_by_number(tp, modality, band):
    summary = json.loads(tp.execute("SELECT s12_band_summary(scene_id, ?, ?) FROM scenes WHERE has_files",
                                    (modality, band)).fetchone()[0])
    values = valid_pixels(tp, scene_ids(tp, "has_files"), modality, band)
    assert modality != "s1" or summary["count"] < len(scene_ids(tp, "has_files")) * 240 * 240  # NaN left out
    check(summary, values)


def test_sen12ms_int16_and_float64_with_nan_over_a_where_and_by_split(ms):
    assert len(scene_ids(ms, "1")) >= 10
    for modality, band in [("s2", "B8"), ("s2", "B10"), ("s1", "VV"), ("s1", "VH")]:
        summary = json.loads(ms.execute("SELECT s12_band_summary(name, ?, ?) FROM scenes WHERE scene_id % 3 != 0",
                                        (modality, band)).fetchone()[0])
        check(summary, valid_pixels(ms, scene_ids(ms, "scene_id % 3 != 0"), modality, band))
    types = dict(ms.execute("SELECT modality, dtype FROM files GROUP BY modality"))
    assert (types["s1"], types["s2"]) == ("Float64", "Int16")
    for split, text in ms.execute("SELECT split, s12_band_summary(scene_id, 's1', 'VV') FROM scenes GROUP BY split"):
        check(json.loads(text), valid_pixels(ms, scene_ids(ms, f"split IS '{split}'" if split else "split IS NULL"), "s1", "VV"))


def test_other_quantiles_on_request(tp, ms):
    quantiles = [0.001, 0.25, 0.75, 0.999]
    for conn, modality, band in [(tp, "s2", "B8"), (ms, "s1", "VH")]:
        summary = json.loads(conn.execute("SELECT s12_band_summary(scene_id, ?, ?, ?) FROM scenes",
                                          (modality, band, json.dumps(quantiles))).fetchone()[0])
        assert "p02" not in summary and {"p0.1", "p25", "p75", "p99.9"} <= summary.keys()
        check(summary, valid_pixels(conn, scene_ids(conn, "has_files"), modality, band), quantiles)
    one = json.loads(tp.execute("SELECT s12_band_summary(scene_id, 's2', 'B8', 0.5) FROM scenes").fetchone()[0])
    assert "p50" in one and "p02" not in one


def test_a_scene_counted_twice_has_its_pixels_once(tp):
    twice = tp.execute("SELECT s12_band_summary(s.scene_id, 's2', 'B4') FROM scenes s JOIN scenes t "
                       "ON t.roi_id = s.roi_id OR t.scene_id = s.scene_id WHERE s.has_files").fetchone()[0]
    once = tp.execute("SELECT s12_band_summary(scene_id, 's2', 'B4') FROM scenes WHERE has_files").fetchone()[0]
    assert twice == once


def test_normalization_vectors_in_the_order_asked(tp, ms):
    for conn, modality, bands in [(tp, "s2", ["B4", "B3", "B2", "B8"]), (ms, "s1", ["VH", "VV"])]:
        result = json.loads(conn.execute("SELECT s12_normalization(scene_id, ?, ?) FROM scenes",
                                         (modality, ",".join(bands))).fetchone()[0])
        assert result["bands"] == bands
        scenes = scene_ids(conn, "has_files")
        for i, band in enumerate(bands):
            values = valid_pixels(conn, scenes, modality, band)
            assert result["count"][i] == values.size
            assert math.isclose(result["mean"][i], values.mean(), rel_tol=1e-9)
            assert math.isclose(result["std"][i], values.std(), rel_tol=1e-9)
    every = json.loads(tp.execute("SELECT s12_normalization(scene_id, 's1', '*') FROM scenes").fetchone()[0])
    assert every["bands"] == ["VV_sigma0", "VH_sigma0", "VV_gamma0flat", "VH_gamma0flat", "incAngle"]


def test_empty_groups_and_scenes_without_files(tp):
    assert tp.execute("SELECT s12_band_summary(scene_id, 's2', 4) FROM scenes WHERE 0").fetchone() == (None,)
    assert tp.execute("SELECT s12_band_summary(scene_id, NULL, 4) FROM scenes").fetchone() == (None,)
    summary = json.loads(tp.execute("SELECT s12_band_summary(scene_id, 's2', 'B4') FROM scenes "
                                    "WHERE NOT has_files").fetchone()[0])
    assert summary == {"count": 0, "min": None, "max": None, "mean": None, "stddev": None, "p02": None,
                       "p50": None, "p98": None, "files": 0, "missing": 2319 - len(scene_ids(tp, "has_files"))}
    with pytest.raises(sqlite3.OperationalError, match="every row of a group must ask for the same modality and band"):
        tp.execute("SELECT s12_band_summary(scene_id, 's2', iif(scene_id = 390, 'B3', 'B4')) FROM scenes").fetchall()


def test_sketches_of_real_size_patches_stay_under_2_kb_per_band(tmp_path_factory):
    """SEN12MS patches are 256 px: the catalog keeps one sketch per band of each of 541,986 files."""
    db = ingest_tree(tmp_path_factory, synth_tree(tmp_path_factory, "sen12ms", scenes=6, size=256, seed=9))
    sizes = dict(sqlite3.connect(db).execute("SELECT modality, max(length(sketch)) FROM band_stats GROUP BY modality"))
    assert set(sizes) == {"s1", "s2", "lc"} and max(sizes.values()) < 2048, sizes


def test_a_version_1_catalog_is_completed_by_the_next_ingest(tp_tree, tp_db, tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(tp_db, db)
    older_schema(db, [  # what version 1 had: no sketches, no WKB footprints, no release seasons, no patch grid
        *BEFORE_VERSION_4, "ALTER TABLE band_stats DROP COLUMN sketch", "ALTER TABLE scenes DROP COLUMN geom",
        "ALTER TABLE scenes DROP COLUMN release_season", "DROP TABLE geometry_columns", "DROP TABLE spatial_ref_sys",
        "UPDATE s12_meta SET value = '1' WHERE key = 'schema_version'"])
    with pytest.raises(sqlite3.OperationalError, match="s12_band_summary: this catalog has no quantile sketches "
                                                       r"\(schema_version 1\): run sen12lite ingest on it again"):
        load(db).execute("SELECT s12_band_summary(scene_id, 's2', 4) FROM scenes").fetchall()
    files = sqlite3.connect(db).execute("SELECT count(*) FROM files").fetchone()[0]
    again = run("ingest", tp_tree, "--db", db)
    assert f"{files} files found, {files} scanned" in again.stdout + again.stderr  # every file rescanned, once
    conn = load(db)
    assert conn.execute("SELECT value FROM s12_meta WHERE key = 'schema_version'").fetchone() == ("4",)
    assert conn.execute("SELECT count(*) FROM band_stats WHERE sketch IS NULL").fetchone() == (0,)
    for query in ["SELECT s12_band_summary(scene_id, 's1', 'VV') FROM scenes",
                  "SELECT scene_id, geom, release_season FROM scenes ORDER BY scene_id", "SELECT * FROM geometry_columns"]:
        assert conn.execute(query).fetchall() == load(tp_db).execute(query).fetchall(), query
