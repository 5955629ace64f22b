"""s12_png (src/sql/functions/s12_png.rs): the decoded PNG against numpy's stretch, the official WorldCover palette
and the index colour ramp."""
import numpy as np
from osgeo import gdal

from contextlib import closing

from conftest import load
from oracles import CLOUDY_SCENE, SCENE, gdal_array


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


def test_png_igbp_draws_sen12ms_land_cover_in_the_modis_legend(ms_db, tmp_path):
    # Earth Engine's MODIS/061/MCD12Q1 LC_Type1 palette, written out here from its catalog page.
    palette = ["05450a", "086a10", "54a708", "78d203", "009900", "c6b044", "dcd159", "dade48", "fbff13",
               "b6ff05", "27ff87", "c24f44", "a5a5a5", "ff6d4c", "69fff8", "f9ffa4", "1c0dff"]
    with closing(load(ms_db)) as conn:
        scene = conn.execute("SELECT scene_id FROM files WHERE modality = 'lc' LIMIT 1").fetchone()[0]
        _, lc = gdal_array(conn, scene, "lc")
        image = decode_png(conn.execute("SELECT s12_png(?, 'igbp', 0, 0, 64, 64)", (scene,)).fetchone()[0], tmp_path)
    classes = lc[0]
    assert len(np.unique(classes)) >= 2
    for value in np.unique(classes):
        where = classes == value
        colour = palette[value - 1]
        assert all(np.all(image[k][where] == int(colour[2 * k:2 * k + 2], 16)) for k in range(3)), value
        assert np.all(image[3][where] == 255)


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
