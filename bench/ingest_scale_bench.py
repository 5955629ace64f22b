"""make bench, SEN12MS scale: the ingest of 3,000 synthesized triplets (9,000 files of 256 px, as
the real patches) against an in-process loop of GDAL's Python bindings over the same files.

- ours: `sen12lite ingest --no-checksums` (statistics with percentiles, land cover, footprints,
  sketches; both cores), then the default ingest (also md5sums.txt), each into a new catalog;
- GDAL: one Python process opening every file and calling ComputeStatistics(approx_ok=False) on
  every band (min, max, mean, stddev: no percentiles), as a user would script it without a
  process per file;
- the per-file overhead (open, discovery, transaction), measured as the ingest of the same 3,000
  triplets at 16 px a side (the least synth writes), where there is almost no pixel to read;
- the growth of the catalog when every file is ingested again (mtimes changed): SQLite reuses the
  pages the old rows leave, so it should not grow, and no VACUUM is needed.
All files are read once first, so both contenders read from the page cache. The machine's speed
drifts by about 10 % over minutes, so GDAL's loop, the ingest and the checked ingest run in turn,
ROUNDS times: each round's ratio is of runs made side by side, and the medians are reported.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from osgeo import gdal

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
TRIPLETS = int(os.environ.get("BENCH_TRIPLETS", "3000"))
FULL = ROOT / "bench-data" / f"sen12ms-{TRIPLETS}"
TINY = ROOT / "bench-data" / f"sen12ms-{TRIPLETS}-tiny"
REAL_FILES = 541_986
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
gdal.UseExceptions()


def synthesized(folder, size):
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([BIN, "synth", str(folder), "--layout", "sen12ms", "--scenes", str(TRIPLETS), "--size", str(size),
                        "--seed", "21"], check=True, capture_output=True)
        (folder / "done").touch()
    files = sorted(folder.rglob("*.tif"))
    for f in files:
        f.read_bytes()  # into the page cache
    return files


def timed(command):
    """(seconds, peak RSS in MB) of a command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(map(str, command))} failed")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def gdal_loop(files):
    start = time.perf_counter()
    for path in files:
        ds = gdal.Open(str(path))
        for i in range(1, ds.RasterCount + 1):
            ds.GetRasterBand(i).ComputeStatistics(False)
        ds = None
    return time.perf_counter() - start


def main(tmp):
    gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")  # no .aux.xml written next to the files
    files = synthesized(FULL, 256)
    tiny = synthesized(TINY, 16)
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    rounds = []
    for r in range(ROUNDS):
        theirs = gdal_loop(files)
        ours, peak = timed([BIN, "ingest", str(FULL), "--db", f"{tmp}/a{r}.db", "--no-checksums"])
        checked, _ = timed([BIN, "ingest", str(FULL), "--db", f"{tmp}/b{r}.db"])
        rounds.append((theirs, ours, checked, peak))
    theirs, ours, checked, peak = (statistics.median(column) for column in zip(*rounds))
    speedups = [t / o for t, o, _, _ in rounds]
    costs = [c / o for _, o, c, _ in rounds]
    os.replace(f"{tmp}/a0.db", f"{tmp}/a.db")
    overhead, _ = timed([BIN, "ingest", str(TINY), "--db", f"{tmp}/tiny.db", "--no-checksums"])
    size = os.path.getsize(f"{tmp}/a.db")
    for f in files:
        os.utime(f)  # every file changed: the next ingest rescans and rewrites all rows
    again, _ = timed([BIN, "ingest", str(FULL), "--db", f"{tmp}/a.db", "--no-checksums"])
    grown = os.path.getsize(f"{tmp}/a.db")
    print(f"SEN12MS at scale: {TRIPLETS} triplets, {len(files)} files of 256 px, {megabytes:.0f} MB, {os.cpu_count()} cores, "
          f"medians of {ROUNDS} rounds (GDAL, ingest, checked ingest in turn)")
    print(f"  GDAL Python loop, ComputeStatistics per band:  {theirs:6.1f} s  {len(files) / theirs:6.0f} files/s")
    print(f"  sen12lite ingest --no-checksums:                {ours:6.1f} s  {len(files) / ours:6.0f} files/s  "
          f"{megabytes / ours:4.0f} MB/s  peak RSS {peak:.0f} MB  {statistics.median(speedups):.2f}x  (target >= 1.5x; "
          f"rounds {', '.join(f'{x:.2f}' for x in speedups)})")
    print(f"  sen12lite ingest (md5sums.txt checked too):     {checked:6.1f} s  {statistics.median(costs):.2f}x the above  "
          f"(target <= 1.2x; rounds {', '.join(f'{x:.2f}' for x in costs)})")
    print(f"  extrapolated to the real {REAL_FILES} files: {REAL_FILES / len(files) * ours / 60:.0f} min "
          f"({REAL_FILES / len(files) * checked / 60:.0f} min with checksums), on 2 cores, from the page cache")
    print(f"  per-file overhead (the same triplets at 16 px): {overhead / len(tiny) * 1e3:.2f} ms a file")
    print(f"  catalog: {size / 1e6:.1f} MB, {size / TRIPLETS / 1e3:.1f} kB a triplet; after re-ingesting every file: "
          f"{grown / 1e6:.1f} MB ({(grown - size) / size * 100:+.1f} %), in {again:.1f} s")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(dir=ROOT / "bench-data") as tmp:
        main(tmp)
