"""make bench: ingest throughput against `gdalinfo -stats` over the same files, in one run.

Both read the same page-cached GeoTIFFs (synthesized once into bench-data/, real 2000 px size).
The ratio compares the statistics (`--no-checksums`); the default ingest, which also checks every
file against md5sums.txt, is timed on its own line.
`gdalinfo -stats` runs one file after another, as a user would script it; GDAL_PAM_ENABLED=NO
keeps it from writing (and later reading back) .aux.xml statistics. Peak memory of the ingest
comes from wait4's rusage.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
DATA = ROOT / "bench-data" / "sen12tp"
SCENES = int(os.environ.get("BENCH_SCENES", "6"))
SIZE = int(os.environ.get("BENCH_SIZE", "2000"))


def timed(command, env=None):
    """Runs a command; returns (seconds, peak resident MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(map(str, command))} failed")
    return seconds, usage.ru_maxrss / 1024


def main():
    if not (DATA / "md5sums.txt").exists():
        shutil.rmtree(DATA, ignore_errors=True)
        print(f"bench: synthesizing {SCENES} scenes of {SIZE} px into {DATA} (once)")
        subprocess.run([BIN, "synth", DATA, "--layout", "sen12tp", "--scenes", str(SCENES), "--size", str(SIZE)], check=True)
    files = sorted(DATA.rglob("*.tif"))
    total_mb = sum(f.stat().st_size for f in files) / 1e6
    pixels = 0
    for f in files:
        f.read_bytes()  # into the page cache, for both contenders
    env = dict(os.environ, GDAL_PAM_ENABLED="NO")
    baseline = 0.0
    for f in files:
        baseline += timed(["gdalinfo", "-stats", "-nomd", str(f)], env)[0]
    with tempfile.TemporaryDirectory() as tmp:
        ours, peak = timed([BIN, "ingest", str(DATA), "--db", f"{tmp}/bench.db", "--no-checksums"])
        checked, _ = timed([BIN, "ingest", str(DATA), "--db", f"{tmp}/checked.db"])
        shutil.copy(ROOT / "data/sen12tp-metadata.json", f"{tmp}/sen12tp-metadata.json")
        metadata_only, _ = timed([BIN, "ingest", tmp, "--db", f"{tmp}/meta.db"])
    print(f"files: {len(files)} GeoTIFFs, {total_mb:.0f} MB on disk, {SCENES} scenes of {SIZE}x{SIZE} px, {os.cpu_count()} cores")
    print(f"gdalinfo -stats, one file after another: {baseline:6.2f} s")
    print(f"sen12lite ingest --no-checksums:         {ours:6.2f} s   peak RSS {peak:.0f} MB")
    print(f"ratio (gdalinfo / ingest):               {baseline / ours:6.2f}x  (target >= 1.5x)")
    print(f"sen12lite ingest, also md5sums.txt:      {checked:6.2f} s   ratio {baseline / checked:.2f}x (gdalinfo checks no md5)")
    print(f"metadata-only ingest of the real file (2319 scenes): {metadata_only:.2f} s  (target < 2 s)")


if __name__ == "__main__":
    main()
