"""apsw (SQLite 3.41+): each call in another thread, interrupted after 50 ms from this one.
Usage: python interrupt_calls.py EXT DB SCENE. Prints one JSON line per call."""
import json
import sys
import threading
import time

import apsw

ext, db, scene = sys.argv[1:4]
conn = apsw.Connection(db)
conn.enable_load_extension(True)
conn.load_extension(ext)
CALLS = {
    "s12_png": f"SELECT length(s12_png('{scene}', 'rgb', 0, 0, 2000, 2000))",
    "s12_png ndvi": f"SELECT length(s12_png('{scene}', 'ndvi', 0, 0, 2000, 2000))",
    "s12_window": f"SELECT length(s12_window('{scene}', 's2', '*', 0, 0, 2000, 2000))",
    "s12_index_mean": f"SELECT s12_index_mean('{scene}', 'evi')",
    "s12_patches": f"SELECT count(*) FROM s12_patches('{scene}', 16, 2)",
    "s12_pixels": f"SELECT count(*) FROM s12_pixels('{scene}', 's2', 0, 0, 600, 500)",
    "s12_batch": "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 119) "
                 f"SELECT length(s12_batch('{scene}', 's2', 'B2,B3,B4,B8', i * 13, i * 11, 256, 256)) FROM n",
}
for name, sql in CALLS.items():
    started = time.perf_counter()
    conn.execute(sql).fetchall()
    uninterrupted_ms = (time.perf_counter() - started) * 1000
    outcome = {}

    def run():
        try:
            conn.execute(sql).fetchall()
            outcome["error"] = None
        except apsw.Error as e:
            outcome["error"] = f"{type(e).__name__}: {e}"
        outcome["ended"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.05)
    interrupted_at = time.perf_counter()
    conn.interrupt()
    worker.join()
    usable = conn.execute("SELECT s12_version()").fetchone()[0]
    print(json.dumps({"call": name, "uninterrupted_ms": uninterrupted_ms, "error": outcome["error"],
                      "latency_ms": (outcome["ended"] - interrupted_at) * 1000, "usable": usable}), flush=True)
