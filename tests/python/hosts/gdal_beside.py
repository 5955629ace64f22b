"""GDAL's own Python bindings and the extension in one process, reading the same file; the
extension must leave the host's GDAL settings and error handling as they were.
Usage: /usr/bin/python3 gdal_beside.py EXT DB SCENE WORKDIR. Prints JSON."""
import io
import json
import os
import sqlite3
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
ext, db, scene, workdir = sys.argv[1:5]
conn = sqlite3.connect(db)
root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
path = os.path.join(root, conn.execute(
    "SELECT path FROM files JOIN scenes USING (scene_id) WHERE name = ? AND modality = 's2'", (scene,)).fetchone()[0])
before = gdal.Open(path).ReadAsArray(5, 6, 40, 30)
conn.enable_load_extension(True)
conn.load_extension(ext)
ours = np.load(io.BytesIO(conn.execute("SELECT s12_window(?, 's2', '*', 5, 6, 40, 30)", (scene,)).fetchone()[0]))
after = gdal.Open(path).ReadAsArray(5, 6, 40, 30)
try:
    gdal.Open(os.path.join(workdir, "missing.tif"))
    host_error = None
except RuntimeError as e:
    host_error = str(e)
# The host's own PAM still writes its statistics beside its own file.
copy = os.path.join(workdir, "copy.tif")
gdal.Translate(copy, path)
dataset = gdal.Open(copy)
dataset.GetRasterBand(1).ComputeStatistics(False)
dataset = None
print(json.dumps({"equal": bool(np.array_equal(ours, before) and np.array_equal(ours, after)),
                  "host_error": host_error, "pam_option": gdal.GetConfigOption("GDAL_PAM_ENABLED"),
                  "host_aux_xml": os.path.exists(copy + ".aux.xml")}))
