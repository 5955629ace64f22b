"""make bench, catalog part: statistics of subsets at SEN12MS scale, from the catalog alone.

- s12_band_summary(scene_id, 's2', 'B4') over every scene of a 180,000-scene catalog
  (bench/big_catalog.py), alone and GROUP BY split, against the same join pooled by SQLite's own
  aggregates (count, min, max, weighted mean: no spread, no quantiles), best of 3 in one process.
- s12_normalization of all 13 S2 bands over the same scenes.
- What the quantile sketches cost: bytes per band in the 180,000-scene catalog (256 px patches)
  and in a catalog of the 2000 px SEN12TP bench scenes, and the catalog's bytes per triplet.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import big_catalog  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXT = os.environ.get("S12_EXT", str(ROOT / "dist/sen12lite.so"))
SEN12TP = ROOT / "bench-data" / "sen12tp"


def best_of(rounds, conn, sql):
    """(fastest seconds, result) of running `sql` `rounds` times."""
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = conn.execute(sql).fetchall()
        times.append(time.perf_counter() - start)
    return min(times), result


def sketch_bytes(conn):
    """{modality: (mean, max)} bytes of the sketches per band."""
    rows = conn.execute("SELECT modality, avg(length(sketch)), max(length(sketch)) FROM band_stats GROUP BY modality")
    return {m: (mean, most) for m, mean, most in rows}


def main(tmp):
    db = Path(tmp) / "big.db"
    start = time.perf_counter()
    scenes = big_catalog.build(db)
    built = time.perf_counter() - start
    conn = sqlite3.connect(db)
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    conn.execute("SELECT count(*) FROM band_stats").fetchone()  # the file into the page cache
    summary, _ = best_of(3, conn, "SELECT s12_band_summary(scene_id, 's2', 'B4') FROM scenes")
    by_split, _ = best_of(3, conn, "SELECT split, s12_band_summary(scene_id, 's2', 'B4') FROM scenes GROUP BY split")
    plain, _ = best_of(3, conn, "SELECT sum(b.valid_count), min(b.min), max(b.max), "
                                "sum(b.mean * b.valid_count) / sum(b.valid_count) FROM scenes s JOIN band_stats b "
                                "ON b.scene_id = s.scene_id AND b.modality = 's2' AND b.band = 4")
    vectors, _ = best_of(3, conn, "SELECT s12_normalization(scene_id, 's2', '*') FROM scenes")
    size = db.stat().st_size
    print(f"catalog of {scenes} SEN12MS scenes (built in {built:.0f} s): {size / 1e6:.0f} MB, "
          f"{size / scenes / 1e3:.1f} kB per triplet")
    print(f"SQL join, count/min/max/mean of B4 (baseline):  {plain * 1e3:6.0f} ms")
    print(f"s12_band_summary(scene_id, 's2', 'B4'):          {summary * 1e3:6.0f} ms   {summary / plain:.2f}x  (target < 1 s)")
    print(f"  ... GROUP BY split:                            {by_split * 1e3:6.0f} ms")
    print(f"s12_normalization(scene_id, 's2', '*'), 13 bands: {vectors * 1e3:6.0f} ms")
    for modality, (mean, most) in sketch_bytes(conn).items():
        print(f"  sketch bytes per band, SEN12MS 256 px {modality:3}: mean {mean:5.0f}, max {most:5.0f}")
    if (SEN12TP / "md5sums.txt").exists():
        subprocess.run([big_catalog.BIN, "ingest", str(SEN12TP), "--db", f"{tmp}/tp.db", "--no-checksums"], check=True,
                       capture_output=True)
        for modality, (mean, most) in sketch_bytes(sqlite3.connect(f"{tmp}/tp.db")).items():
            print(f"  sketch bytes per band, SEN12TP 2000 px {modality:10}: mean {mean:5.0f}, max {most:5.0f}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(dir=ROOT / "bench-data") as tmp:
        main(tmp)
