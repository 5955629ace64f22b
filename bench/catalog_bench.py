"""make bench, catalog part: statistics of subsets at SEN12MS scale, from the catalog alone.

- s12_band_summary(scene_id, 's2', 'B4') over every scene of a 180,000-scene catalog
  (bench/big_catalog.py), alone and GROUP BY split, against the same join pooled by SQLite's own
  aggregates (count, min, max, weighted mean: no spread, no quantiles), best of 3 in one process.
- s12_normalization of all 13 S2 bands over the same scenes.
- Places at that scale: a bbox + time query through scenes_rtree against the same question by a
  scan of scenes (p50 and p99 over 200 random boxes of 2 x 2 degrees and 90 days); s12_nearest's
  first call in a new connection; s12_intersecting on a 2 x 2 degree polygon against
  s12_intersects over every scene.
- Exports of the same catalog: GeoParquet, STAC items, GeoPackage and GeoJSON, time and peak RSS, against
  GDAL's own ogr2ogr copying the catalog's scenes layer to a GeoPackage.
- What the quantile sketches cost: bytes per band in the 180,000-scene catalog (256 px patches)
  and in a catalog of the 2000 px SEN12TP bench scenes, and the catalog's bytes per triplet.
"""
import os
import random
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


def percentiles(times):
    ordered = sorted(times)
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]


def connect(db):
    conn = sqlite3.connect(db)
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    return conn


def places(db):
    """The places part (see the module's docstring)."""
    conn = connect(db)
    rng = random.Random(3)
    days = conn.execute("SELECT min(min_day), max(max_day) FROM scenes_rtree").fetchone()
    boxes = []
    for _ in range(200):
        x, y, day = rng.uniform(-175, 173), rng.uniform(-60, 68), rng.uniform(days[0], max(days[0], days[1] - 90))
        boxes.append((x, x + 2, y, y + 2, day, day + 90))
    indexed = "SELECT count(*) FROM scenes_rtree WHERE min_lon <= ?2 AND max_lon >= ?1 AND min_lat <= ?4 " \
              "AND max_lat >= ?3 AND min_day <= ?6 AND max_day >= ?5"
    scan = "SELECT count(*) FROM scenes s, scenes_rtree r ON r.scene_id = +s.scene_id WHERE s.min_lon <= ?2 " \
           "AND s.max_lon >= ?1 AND s.min_lat <= ?4 AND s.max_lat >= ?3 AND r.min_day <= ?6 AND r.max_day >= ?5"
    timings = {}
    for name, sql in (("rtree", indexed), ("scan", scan)):
        times, counts = [], []
        for box in boxes:
            start = time.perf_counter()
            counts.append(conn.execute(sql, box).fetchone()[0])
            times.append(time.perf_counter() - start)
        timings[name] = (percentiles(times), counts)
    assert timings["rtree"][1] == timings["scan"][1], "the R*Tree and the scan disagree"
    (r50, r99), (s50, s99) = timings["rtree"][0], timings["scan"][0]
    print(f"bbox + time query, 200 boxes of 2 x 2 deg x 90 days ({sum(timings['rtree'][1])} scenes found):")
    print(f"  scan of scenes:      p50 {s50 * 1e3:7.2f} ms   p99 {s99 * 1e3:7.2f} ms")
    print(f"  scenes_rtree:        p50 {r50 * 1e3:7.3f} ms   p99 {r99 * 1e3:7.3f} ms   {s50 / r50:.0f}x at p50  (target >= 100x, p50 < 1 ms)")
    firsts = []
    for lon, lat in [(11.39, 47.26), (-47.69, -1.92), (139.7, 35.7), (-150.0, -20.0), (0.0, 0.0)]:
        fresh = connect(db)
        start = time.perf_counter()
        fresh.execute("SELECT * FROM s12_nearest(?, ?, 5)", (lon, lat)).fetchall()
        firsts.append(time.perf_counter() - start)
    print(f"s12_nearest(lon, lat, 5), first call in a new connection: max {max(firsts) * 1e3:.1f} ms over 5 places"
          f"  (target < 100 ms)")
    zone = "POLYGON((10 44, 12 44, 12 46, 10 46, 10 44))"
    table, found = best_of(3, conn, f"SELECT scene_id FROM s12_intersecting('{zone}')")
    every, same = best_of(1, conn, f"SELECT scene_id FROM scenes WHERE s12_intersects(scene_id, '{zone}') ORDER BY 1")
    assert found == same
    print(f"scenes meeting a 2 x 2 deg polygon ({len(found)}): s12_intersecting {table * 1e3:.1f} ms  (target < 5 ms), "
          f"s12_intersects over every scene {every * 1e3:.0f} ms, {every / table:.0f}x")


def sketch_bytes(conn):
    """{modality: (mean, max)} bytes of the sketches per band."""
    rows = conn.execute("SELECT modality, avg(length(sketch)), max(length(sketch)) FROM band_stats GROUP BY modality")
    return {m: (mean, most) for m, mean, most in rows}


def time_and_rss(command):
    """(seconds, peak RSS in MiB) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{command} failed")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def exports(db, tmp):
    baseline, baseline_rss = time_and_rss(["ogr2ogr", "-f", "GPKG", f"{tmp}/ogr.gpkg", str(db), "scenes"])
    print(f"ogr2ogr -f GPKG of the scenes layer (baseline): {baseline:6.1f} s   peak RSS {baseline_rss:4.0f} MiB")
    for fmt, suffix in (("geoparquet", "parquet"), ("stac-geoparquet", "parquet"), ("gpkg", "gpkg"), ("geojson", "geojson")):
        out = Path(tmp) / f"export-{fmt}.{suffix}"
        seconds, rss = time_and_rss([big_catalog.BIN, "export", str(db), str(out), "--format", fmt])
        print(f"sen12lite export --format {fmt:15}: {seconds:6.1f} s   peak RSS {rss:4.0f} MiB   "
              f"{out.stat().st_size / 1e6:5.0f} MB   {seconds / baseline:.2f}x the baseline")


def main(tmp):
    db = Path(tmp) / "big.db"
    start = time.perf_counter()
    scenes = big_catalog.build(db)
    built = time.perf_counter() - start
    conn = connect(db)
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
    places(db)
    exports(db, tmp)
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
