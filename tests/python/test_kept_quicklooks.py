"""The quicklooks the ingest keeps (src/raster/kept_quicklook.rs, `quicklooks` in the catalog) and
s12_png(scene, what): each PNG decoded by GDAL and compared with numpy drawing the same file (every
step-th pixel from the middle of its block, each band stretched over numpy's own 2-98 %, the legend's
colours); served without reading a raster; refused when its file changed."""
import os
import subprocess
import uuid
from contextlib import closing

import numpy as np
import pytest
from osgeo import gdal

from conftest import EXT, load, run, synth_tree
from oracles import path_of

gdal.UseExceptions()
SIDE = 512
WORLDCOVER = {10: "#006400", 20: "#ffbb22", 30: "#ffff4c", 40: "#f096ff", 50: "#fa0000", 60: "#b4b4b4",
              70: "#f0f0f0", 80: "#0064c8", 90: "#0096a0", 95: "#00cf75", 100: "#fae6a0"}


def decoded(png):
    """The PNG as GDAL reads it, palettes expanded: (bands, rows, cols) uint8, the last band alpha."""
    name = f"/vsimem/{uuid.uuid4().hex}.png"
    gdal.FileFromMemBuffer(name, png)
    try:
        ds = gdal.Open(name)
        if ds.GetRasterBand(1).GetColorTable() is not None:
            ds = gdal.Translate("", ds, format="MEM", rgbExpand="rgba")
        return ds.ReadAsArray()
    finally:
        gdal.Unlink(name)


def sampled(array):
    """numpy's quicklook sampling of a (bands, rows, cols) array."""
    h, w = array.shape[-2:]
    step = max(-(-max(w, h) // SIDE), 1)
    rows = np.minimum(np.arange(-(-h // step)) * step + step // 2, h - 1)
    cols = np.minimum(np.arange(-(-w // step)) * step + step // 2, w - 1)
    return array[..., rows[:, None], cols[None, :]]


def stretched(conn, scene, modality, bands):
    """RGB(A) or grey-alpha as numpy draws the file: each band over its own 2-98 % (np.percentile)."""
    ds = gdal.Open(path_of(conn, scene, modality))
    values = np.stack([ds.GetRasterBand(b).ReadAsArray().astype(float) for b in bands])
    tags = [ds.GetRasterBand(b).GetNoDataValue() for b in bands]
    nodata = np.zeros(values.shape[1:], bool)
    for v, tag in zip(values, tags):
        nodata |= np.isnan(v) | (v == tag if tag is not None else False)
    levels = []
    for v, tag in zip(values, tags):
        valid = v[~(np.isnan(v) | (v == tag if tag is not None else False))]
        low, high = np.percentile(valid, [2, 98])
        levels.append(np.clip(np.round((v - low) / (high - low) * 255), 0, 255).astype(np.uint8))
    image = np.stack(levels + [np.full(nodata.shape, 255, np.uint8)])
    image[:, nodata] = 0
    return sampled(image)


def kept_png(conn, scene, what):
    return conn.execute("SELECT s12_png(?, ?)", (scene, what)).fetchone()[0]


def assert_close(got, expected):
    # One level apart at most: the percentiles agree, and a value halfway between two levels may round
    # either way in float arithmetic.
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_a_whole_scene_is_kept_at_512_px_as_numpy_draws_it(big_db):
    with closing(load(big_db)) as conn:
        scene = conn.execute("SELECT scene_id FROM scenes WHERE has_files").fetchone()[0]
        assert conn.execute("SELECT width, height FROM quicklooks WHERE scene_id = ? AND what = 'rgb'",
                            (scene,)).fetchone() == (500, 500)
        assert_close(decoded(kept_png(conn, scene, "rgb")), stretched(conn, scene, "s2", [4, 3, 2]))
        assert_close(decoded(kept_png(conn, scene, "VV")), stretched(conn, scene, "s1", [1]))
        ds = gdal.Open(path_of(conn, scene, "worldcover"))
        classes = sampled(ds.ReadAsArray())
        colours = {code: [int(c[i:i + 2], 16) for i in (1, 3, 5)] for code, c in WORLDCOVER.items()}
        expected = np.zeros((4,) + classes.shape, np.uint8)
        for code, rgb in colours.items():
            expected[:, classes == code] = np.array(rgb + [255])[:, None]
        assert (decoded(kept_png(conn, scene, "worldcover")) == expected).all()


@pytest.mark.parametrize("kept", ["large", "all"])
def test_sen12ms_patches_are_drawn_at_their_256_px_kept_or_not(tmp_path_factory, kept):
    tree = synth_tree(tmp_path_factory, "sen12ms", scenes=3, size=256, seed=7)
    db = tmp_path_factory.mktemp("catalog") / "catalog.db"
    run("ingest", tree, "--db", db, "--quicklooks", kept)
    with closing(load(db)) as conn:
        scenes = [r[0] for r in conn.execute("SELECT scene_id FROM scenes WHERE has_files")]
        for scene in scenes:
            assert_close(decoded(kept_png(conn, scene, "rgb")), stretched(conn, scene, "s2", [4, 3, 2]))
            assert_close(decoded(kept_png(conn, scene, "vv")), stretched(conn, scene, "s1", [1]))
            assert decoded(kept_png(conn, scene, "igbp")).shape == (4, 256, 256)
        # A 256 px patch is its own quicklook: kept only when asked, else drawn from the file.
        expected = 3 * len(scenes) if kept == "all" else 0
        assert conn.execute("SELECT count(*) FROM quicklooks").fetchone()[0] == expected


def png_lengths_reading_nothing(db, sql):
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.enable_load_extension(True); "
            "c.load_extension(sys.argv[2]); print([len(r[0]) for r in c.execute(sys.argv[3])])")
    env = dict(os.environ, SEN12LITE_MAX_READ_VALUES="1")
    return subprocess.run(["/usr/bin/python3", "-c", code, str(db), EXT, sql], capture_output=True, text=True, env=env)


def test_the_kept_quicklook_reads_no_raster(big_db):
    result = png_lengths_reading_nothing(big_db, "SELECT s12_png(scene_id, 'rgb') FROM scenes WHERE has_files")
    assert result.returncode == 0 and min(eval(result.stdout)) > 1000, result.stderr


def test_a_changed_file_is_drawn_again_and_what_cannot_be_drawn_is_refused(tp_copy, tmp_path):
    db = tmp_path / "catalog.db"
    run("ingest", tp_copy, "--db", db)
    conn = load(db)
    scene = 390
    with pytest.raises(Exception, match=r"s12_png: cannot draw 'ndvi' of scene 29_390 whole: use 'rgb', 'vv', "
                                        r"'worldcover' \(SEN12TP\) or 'igbp' \(SEN12MS\), or a window: "
                                        r"s12_png\(scene, what, col, row, width, height\)"):
        kept_png(conn, scene, "ndvi")
    sql = f"SELECT s12_png({scene}, 'rgb')"
    assert png_lengths_reading_nothing(db, sql).returncode == 0
    os.utime(path_of(conn, scene, "s2"), (1, 1))
    # Not the file the ingest drew: drawn from the file again (and so refused a read of one value).
    refused = png_lengths_reading_nothing(db, sql)
    assert refused.returncode != 0 and "SEN12LITE_MAX_READ_VALUES" in refused.stderr
    assert_close(decoded(kept_png(conn, scene, "rgb")), stretched(conn, scene, "s2", [4, 3, 2]))
