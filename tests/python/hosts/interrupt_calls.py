"""apsw (SQLite 3.41+): each call in another thread, interrupted after 50 ms (or a quarter of its
uninterrupted run, when that is shorter) from this one.
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
    # Many small windows: long even when every block is cached (a second call is).
    "s12_batch": "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999) "
                 f"SELECT length(s12_batch('{scene}', 's2', '*', (i * 7) % 1984, (i * 13) % 1984, 16, 16)) FROM n",
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
    # 50 ms in, or a quarter of the call's run for a call that cached blocks make short.
    delay_ms = min(50.0, uninterrupted_ms / 4)
    time.sleep(delay_ms / 1000)
    interrupted_at = time.perf_counter()
    conn.interrupt()
    worker.join()
    usable = conn.execute("SELECT s12_version()").fetchone()[0]
    print(json.dumps({"call": name, "uninterrupted_ms": uninterrupted_ms, "delay_ms": delay_ms, "error": outcome["error"],
                      "latency_ms": (outcome["ended"] - interrupted_at) * 1000, "usable": usable}), flush=True)
