"""apsw + the rasterio/pyproj wheels (their own GDAL and PROJ) in one process with the extension,
in the order given: `ext-first` loads the extension before the wheels are imported.
Usage: python wheels_beside.py EXT DB SCENE ext-first|wheels-first. Prints JSON; exit 0 = clean."""
import ctypes
import io
import json
import sys

ext, db, scene, order = sys.argv[1:5]
if order == "wheels-first":
    import pyproj  # noqa: F401
    import rasterio  # noqa: F401
import apsw
import numpy as np

conn = apsw.Connection(db)
conn.enable_load_extension(True)
conn.load_extension(ext)
path = conn.execute(
    "SELECT (SELECT value FROM s12_meta WHERE key = 'data_root') || '/' || path FROM files JOIN scenes USING (scene_id) "
    "WHERE name = ? AND modality = 's2'", (scene,)).fetchone()[0]
blob = conn.execute("SELECT s12_window(?, 's2', 'B4,B8', 10, 20, 64, 48)", (scene,)).fetchone()[0]
ours = np.load(io.BytesIO(blob))

import pyproj
import rasterio

with rasterio.open(path) as dataset:
    epsg = dataset.crs.to_epsg()
    theirs = dataset.read([4, 8], window=((20, 68), (10, 74)))
lon, lat = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True).transform(*dataset.xy(30, 40))
import sqlean

# Nothing of GDAL, PROJ or the system SQLite is visible in the global namespace.
process = ctypes.CDLL(None)
visible = [name for name in ("GDALOpen", "OGRGetDriverCount", "proj_create", "TIFFOpen", "sqlite3_libversion")
           if hasattr(process, name)]
print(json.dumps({"equal": bool(np.array_equal(ours, theirs)), "epsg": epsg, "lonlat": [lon, lat],
                  "sqlean": sqlean.sqlite_version, "apsw": apsw.sqlite_lib_version(), "visible": visible}))
