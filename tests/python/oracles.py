"""What the SQL tests compare the extension with: GDAL reading the same files as the catalog names."""
import os

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
