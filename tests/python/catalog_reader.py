"""One reader of a catalog that an ingest is writing: catalog queries whose answers must be
consistent at every commit, and s12_window reads compared with GDAL reading the same file.

Used as a thread by test_concurrency.py and, as `python3 catalog_reader.py DB STOP_FILE SEED EXT`,
as a separate process. The connection has no busy timeout of its own (timeout=0): whatever
waiting happens is the extension's doing, and an SQLITE_BUSY would surface here.
"""
import io
import json
import os
import random
import sqlite3
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

# Invariants of every committed state of a catalog (each file's rows are written in one transaction).
INCONSISTENT = {
    "files without all their band_stats":
        "SELECT count(*) FROM files f WHERE f.stats AND f.band_count != "
        "(SELECT count(*) FROM band_stats b WHERE b.scene_id = f.scene_id AND b.modality = f.modality)",
    "band_stats without a file":
        "SELECT count(*) FROM band_stats b WHERE NOT EXISTS "
        "(SELECT 1 FROM files f WHERE f.scene_id = b.scene_id AND f.modality = b.modality)",
    "files of scenes marked without files":
        "SELECT count(*) FROM files f JOIN scenes s USING (scene_id) WHERE NOT s.has_files",
}


def read(db, stop_file, seed, ext, reconnect):
    """Queries until `stop_file` exists; returns counts of what happened."""
    rng = random.Random(seed)
    counts = {"catalog_queries": 0, "windows": 0, "busy": 0, "inconsistent": 0, "mismatched": 0, "files_seen": 0}
    conn = None
    while not os.path.exists(stop_file):
        if conn is None or reconnect:
            if conn is not None:
                conn.close()
            conn = sqlite3.connect(db, timeout=0, isolation_level=None)
            conn.enable_load_extension(True)
            conn.load_extension(ext)
        try:
            one_round(conn, rng, counts)
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            counts["busy"] += 1
    return counts


def one_round(conn, rng, counts):
    conn.execute("BEGIN")  # one snapshot for the checks and the window below
    try:
        for query in INCONSISTENT.values():
            counts["inconsistent"] += conn.execute(query).fetchone()[0] != 0
            counts["catalog_queries"] += 1
        files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        counts["files_seen"] = max(counts["files_seen"], files)
        row = conn.execute("SELECT f.scene_id, m.value || '/' || f.path, f.width, f.height FROM files f, s12_meta m "
                           "WHERE m.key = 'data_root' AND f.modality = 's2' ORDER BY random() LIMIT 1").fetchone()
        if row is None:
            return
        scene, path, width, height = row
        x, y = rng.randrange(width - 32), rng.randrange(height - 32)
        blob = conn.execute("SELECT s12_window(?, 's2', 'B8,B4', ?, ?, 32, 32)", (scene, x, y)).fetchone()[0]
    finally:
        conn.execute("COMMIT")
    expected = gdal.Open(path).ReadAsArray(x, y, 32, 32)[[7, 3]]
    counts["windows"] += 1
    counts["mismatched"] += not np.array_equal(np.load(io.BytesIO(blob)), expected)


if __name__ == "__main__":
    db, stop_file, seed, ext = sys.argv[1:5]
    print(json.dumps(read(db, stop_file, int(seed), ext, reconnect=True)))
