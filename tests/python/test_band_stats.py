"""Every band statistic, cloud fraction, valid fraction, NDVI and land-cover fraction of the catalog,
recomputed from the pixels with GDAL + numpy."""
from contextlib import closing

import numpy as np
import pytest
from osgeo import gdal

from conftest import connect, ingest_tree, load, synth_tree
from oracles import patch_oracle

gdal.UseExceptions()
gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")


def read_bands(path):
    ds = gdal.Open(str(path))
    arrays = [ds.GetRasterBand(i + 1).ReadAsArray().astype(np.float64) for i in range(ds.RasterCount)]
    nodata = [ds.GetRasterBand(i + 1).GetNoDataValue() for i in range(ds.RasterCount)]
    return arrays, nodata


def valid_mask(array, nodata):
    mask = ~np.isnan(array)
    if nodata is not None and not np.isnan(nodata):
        mask &= array != nodata
    return mask


def close(a, b):
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("which", ["tp", "ms"])
def test_band_stats_match_numpy(which, request):
    tree, db = request.getfixturevalue(f"{which}_tree"), request.getfixturevalue(f"{which}_db")
    assert_band_stats_match_numpy(tree, db)


# The S2 files of a tree as other tools may write them: the ingest decompresses DEFLATE tiles
# itself (src/raster/tiles.rs), of any size, strips too, and leaves other layouts and missing
# tiles to GDAL; the statistics are the same either way.
LAYOUTS = {
    "tiles of 256 across 600 px": ["COMPRESS=DEFLATE", "TILED=YES"],
    "tiles of 128 x 64, BigTIFF": ["COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=64", "BIGTIFF=YES"],
    "strips of 7 rows": ["COMPRESS=DEFLATE", "BLOCKYSIZE=7"],
    "a missing tile": ["COMPRESS=DEFLATE", "TILED=YES", "SPARSE_OK=TRUE"],
    "horizontal predictor": ["COMPRESS=DEFLATE", "TILED=YES", "PREDICTOR=2"],
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_band_stats_match_numpy_whatever_the_layout(layout, tmp_path_factory):
    tree = synth_tree(tmp_path_factory, "sen12tp", scenes=2, size=600, seed=11)
    (tree / "md5sums.txt").unlink()
    for path in tree.rglob("*_s2.tif"):
        source = gdal.GetDriverByName("MEM").CreateCopy("", gdal.Open(str(path)))
        if layout == "a missing tile":  # the first tile all nodata (0): not written
            source.WriteArray(np.zeros((13, 256, 256), dtype=np.uint16), 0, 0)
        gdal.Translate(str(path), source, creationOptions=LAYOUTS[layout])
    if layout == "a missing tile":
        ds = gdal.Open(str(next(tree.rglob("*_s2.tif"))))
        assert ds.GetRasterBand(1).GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF") is None
    db = ingest_tree(tmp_path_factory, tree)
    assert_band_stats_match_numpy(tree, db, at_least=20)
    # Where each value lies: the patch grid's per-pixel rules.
    with closing(load(db)) as conn:
        for scene, in conn.execute("SELECT scene_id FROM scenes WHERE has_files").fetchall():
            got = conn.execute("SELECT col, row, width, height, cloud_fraction, nodata_fraction, ndvi_mean FROM patches "
                               "WHERE scene_id = ? ORDER BY row, col", (scene,)).fetchall()
            assert got == [pytest.approx(e, rel=1e-12) for e in patch_oracle(conn, scene, 256, 249)]


def assert_band_stats_match_numpy(tree, db, at_least=100):
    conn = connect(db)
    files = conn.execute("SELECT scene_id, modality, path FROM files").fetchall()
    assert len(files) >= 8
    checked = 0
    for f in files:
        arrays, nodata = read_bands(tree / f["path"])
        rows = conn.execute(
            "SELECT * FROM band_stats WHERE scene_id = ? AND modality = ? ORDER BY band", (f["scene_id"], f["modality"])
        ).fetchall()
        assert len(rows) == len(arrays), f["path"]
        for row, array, nd in zip(rows, arrays, nodata):
            values = array[valid_mask(array, nd)]
            assert row["valid_count"] == values.size
            assert row["nodata_count"] == array.size - values.size
            if values.size == 0:
                assert row["mean"] is None
                continue
            p02, p50, p98 = np.percentile(values, [2, 50, 98])
            expected = dict(min=values.min(), max=values.max(), mean=values.mean(), stddev=values.std(), p02=p02, p50=p50, p98=p98)
            for key, value in expected.items():
                assert close(row[key], value), (f["path"], row["band_name"], key, row[key], value)
            checked += 1
    assert checked > at_least


def test_sen12tp_band_names_follow_the_dataset(tp_db):
    conn = connect(tp_db)
    names = [r[0] for r in conn.execute("SELECT band_name FROM band_stats WHERE modality = 's2' AND scene_id = (SELECT min(scene_id) FROM files) ORDER BY band")]
    assert names == ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12", "cloud_probability"]
    s1 = [r[0] for r in conn.execute("SELECT DISTINCT band_name FROM band_stats WHERE modality = 's1' ORDER BY band")]
    assert s1 == ["VV_sigma0", "VH_sigma0", "VV_gamma0flat", "VH_gamma0flat", "incAngle"]


def test_cloud_valid_and_ndvi_match_numpy(tp_tree, tp_db):
    conn = connect(tp_db)
    scenes = conn.execute(
        "SELECT s.scene_id, s.cloud_fraction, s.valid_fraction, s.ndvi_mean, f.path FROM scenes s JOIN files f USING (scene_id) WHERE f.modality = 's2'"
    ).fetchall()
    assert len(scenes) == 8
    for s in scenes:
        arrays, nodata = read_bands(tp_tree / s["path"])
        valid = np.logical_and.reduce([valid_mask(a, nd) for a, nd in zip(arrays[:12], nodata[:12])])
        cloud = arrays[12]
        cloudy = valid & valid_mask(cloud, nodata[12]) & (cloud > 40)
        assert close(s["valid_fraction"], valid.mean())
        assert close(s["cloud_fraction"], cloudy.sum() / valid.sum())
        # NDVI: where its own bands (B4, B8) have data and no cloud covers the pixel.
        red, nir = arrays[3], arrays[7]
        cloud_cover = valid_mask(cloud, nodata[12]) & (cloud > 40)
        usable = valid_mask(red, nodata[3]) & valid_mask(nir, nodata[7]) & ~cloud_cover & ((red + nir) != 0)
        assert close(s["ndvi_mean"], ((nir - red)[usable] / (nir + red)[usable]).mean())
    # The synthetic scenes differ: some cloudy, some with swath edges.
    assert len({round(s["cloud_fraction"], 6) for s in scenes}) > 3
    assert any(s["valid_fraction"] < 1 for s in scenes)


def test_worldcover_fractions_match_numpy(tp_tree, tp_db):
    conn = connect(tp_db)
    for f in conn.execute("SELECT scene_id, path FROM files WHERE modality = 'worldcover'").fetchall():
        arrays, nodata = read_bands(tp_tree / f["path"])
        values = arrays[0][valid_mask(arrays[0], nodata[0])]
        classes, counts = np.unique(values, return_counts=True)
        got = {r["class"]: r["fraction"] for r in conn.execute("SELECT class, fraction FROM landcover WHERE scene_id = ? AND source = 'worldcover'", (f["scene_id"],))}
        assert got.keys() == set(int(c) for c in classes)
        for c, n in zip(classes, counts):
            assert close(got[int(c)], n / values.size)


def test_sen12ms_igbp_fractions_and_ndvi_without_cloud_band(ms_tree, ms_db):
    conn = connect(ms_db)
    for s in conn.execute("SELECT scene_id, cloud_fraction, ndvi_mean, landcover FROM scenes").fetchall():
        paths = dict(conn.execute("SELECT modality, path FROM files WHERE scene_id = ?", (s["scene_id"],)).fetchall())
        assert set(paths) == {"s1", "s2", "lc"}
        assert s["cloud_fraction"] is None  # SEN12MS S2 patches carry no cloud band
        s2, _ = read_bands(ms_tree / paths["s2"])
        red, nir = s2[3], s2[7]
        assert close(s["ndvi_mean"], ((nir - red) / (nir + red)).mean())
        lc, _ = read_bands(ms_tree / paths["lc"])
        classes, counts = np.unique(lc[0], return_counts=True)
        got = {r[0]: r[1] for r in conn.execute("SELECT class, fraction FROM landcover WHERE scene_id = ? AND source = 'igbp'", (s["scene_id"],))}
        assert got == {int(c): pytest.approx(n / lc[0].size) for c, n in zip(classes, counts)}
        dominant = int(classes[np.argmax(counts)])
        label = conn.execute("SELECT label FROM landcover WHERE scene_id = ? AND class = ?", (s["scene_id"], dominant)).fetchone()[0]
        assert s["landcover"] == label
