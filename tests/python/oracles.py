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
