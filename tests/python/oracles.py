"""What the SQL tests compare the extension with: GDAL reading the same files as the catalog names,
and trees GDAL rewrote as other tools would have."""
import os
import shutil

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
SCENE = 390  # 29_390: has a swath edge (nodata) in the synthetic tree
CLOUDY_SCENE = 455  # 1008_455: clouds, no nodata


def path_of(conn, scene, modality):
    root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    rel = conn.execute("SELECT path FROM files WHERE scene_id = ? AND modality = ?", (scene, modality)).fetchone()[0]
    return os.path.join(root, rel)


def gdal_array(conn, scene, modality):
    ds = gdal.Open(path_of(conn, scene, modality))
    return ds, ds.ReadAsArray()


def gdal_window(conn, scene, modality, bands, col, row, width, height):
    """Bands `bands` (numbers from 1) of a window of a scene's file, as GDAL reads them."""
    ds = gdal.Open(path_of(conn, scene, modality))
    return np.stack([ds.GetRasterBand(b).ReadAsArray(col, row, width, height) for b in bands])


def re_encoded(tree, out, types):
    """A copy of `tree` whose files of each kind ('s1', 's2', 'lc') GDAL rewrote in `types[kind]`,
    as another tool would have; md5sums.txt goes, since the bytes change."""
    shutil.copytree(tree, out)
    (out / "md5sums.txt").unlink()
    for path in out.rglob("*.tif"):
        kind = path.name.split("_")[2]
        if kind in types:
            copy = path.with_suffix(".tmp.tif")
            gdal.Translate(str(copy), str(path), outputType=types[kind], creationOptions=["COMPRESS=DEFLATE", "TILED=YES"])
            copy.replace(path)
    return out


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


def class_mix_oracle(classes, nodata, size, stride):
    """Per patch of the grid, each class's share of the pixels with data in the map (numpy)."""
    h, w = classes.shape
    out = []
    for row in range(0, h - size + 1, stride):
        for col in range(0, w - size + 1, stride):
            window = classes[row:row + size, col:col + size]
            values = window[window != nodata] if nodata is not None else window.ravel()
            codes, counts = np.unique(values, return_counts=True)
            out.append({int(c): n / values.size for c, n in zip(codes, counts)} if values.size else None)
    return out
