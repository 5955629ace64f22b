"""make bench, object storage: s12_window(scene, 's2', '*', col, row, 256, 256) with the data root
on local disk, on moto's S3-compatible server (/vsis3/) and on an HTTP server with byte ranges
(/vsicurl/), both on 127.0.0.1 (tests/python/servers.py), over the bench's 2000 px SEN12TP scenes.

For each root, in a fresh process (nothing cached by GDAL): the first read of 12 random windows
(each window's file opened and read for the first time) and the same 12 windows read again
(GDAL's block caches warm), medians; the HTTP server counts the bytes it sends for the first reads.
The loopback hides a real network's latency: the ratios are our overhead and GDAL's request
pattern, not what a bucket across a network costs.
"""
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from servers import RangeServer, S3Server  # noqa: E402

BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
EXT = os.environ.get("S12_EXT", str(ROOT / "dist/sen12lite.so"))
DATA = ROOT / "bench-data" / "sen12tp"
WINDOWS = 12

READER = """import json, os, sqlite3, statistics, sys, time
conn = sqlite3.connect(sys.argv[1])
conn.enable_load_extension(True)
conn.load_extension(sys.argv[2])
windows = json.loads(sys.argv[3])
def read(w):
    started = time.perf_counter()
    blob = conn.execute("SELECT s12_window(?, 's2', '*', ?, ?, 256, 256)", w).fetchone()[0]
    assert len(blob) > 256 * 256 * 13 * 2
    return time.perf_counter() - started
first = [read(w) for w in windows]
again = [read(w) for w in windows]
print(json.dumps([statistics.median(first), statistics.median(again)]))
"""


def timings(db, windows, env):
    out = subprocess.run(["/usr/bin/python3", "-c", READER, str(db), EXT, json.dumps(windows)], capture_output=True,
                         text=True, env={**os.environ, **env}, check=True)
    return json.loads(out.stdout)


def main(tmp):
    db = Path(tmp) / "catalog.db"
    subprocess.run([BIN, "ingest", str(DATA), "--db", str(db), "--no-checksums"], check=True, capture_output=True)
    with sqlite3.connect(db) as conn:
        scenes = [r[0] for r in conn.execute("SELECT scene_id FROM files WHERE modality = 's2'")]
    rng = random.Random(7)
    windows = [[rng.choice(scenes), rng.randrange(0, 2000 - 256), rng.randrange(0, 2000 - 256)] for _ in range(WINDOWS)]
    local = timings(db, windows, {})
    print(f"s12_window 256 x 256 x 13, median of {WINDOWS} random windows   first read   again (cached)")
    print(f"  local disk (page cache):                          {local[0] * 1e3:7.1f} ms   {local[1] * 1e3:7.2f} ms")
    with RangeServer(DATA) as http:
        root = f"/vsicurl/{http.url()}".rstrip("/")
        got = timings(db, windows, {"SEN12LITE_DATA_ROOT": root, "SEN12LITE_ALLOW_REMOTE": root})
        per_window = http.bytes_sent / WINDOWS
        print(f"  /vsicurl/ (HTTP ranges, 127.0.0.1):               {got[0] * 1e3:7.1f} ms   {got[1] * 1e3:7.2f} ms   "
              f"{got[0] / local[0]:.1f}x / {got[1] / local[1]:.1f}x local")
        print(f"  bytes fetched per first read: {per_window / 1e6:.2f} MB in {http.requests / WINDOWS:.1f} requests "
              f"(the window's values: {256 * 256 * 13 * 2 / 1e6:.2f} MB uncompressed)")
    with S3Server(DATA) as s3:
        got = timings(db, windows, {"SEN12LITE_DATA_ROOT": s3.root, "SEN12LITE_ALLOW_REMOTE": s3.root, **s3.gdal_env})
        print(f"  /vsis3/ (moto's S3 server, 127.0.0.1):            {got[0] * 1e3:7.1f} ms   {got[1] * 1e3:7.2f} ms   "
              f"{got[0] / local[0]:.1f}x / {got[1] / local[1]:.1f}x local")


if __name__ == "__main__":
    if not (DATA / "md5sums.txt").exists():
        sys.exit("bench/remote_bench.py: run bench/ingest_bench.py first (it synthesizes bench-data/sen12tp)")
    with tempfile.TemporaryDirectory(dir=ROOT / "bench-data") as tmp:
        main(tmp)
