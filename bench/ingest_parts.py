"""Where one core's ingest of a tree goes, part by part, against GDAL decoding the same files in one
process: the budget table of docs/benchmarks.md ("SEN12MS's budget").

    S12_BIN=target/release/sen12lite /usr/bin/python3 bench/ingest_parts.py bench-data/sen12ms-in-one-scene

Task-clock of each side, in turn, the fastest of `--rounds` (`perf stat`), then one `perf record`
of the ingest with DWARF call graphs: each part's share is the samples under its functions
(children included), in seconds of the ingest's fastest round. Needs `perf` (Debian: linux-perf)
and GDAL's Python bindings; files are read from the page cache (read once first)."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
PYTHON = "/usr/bin/python3"
GOAL = 1.15

# (part, functions whose samples it holds, whether GDAL's decoding pays it too)
PARTS = [
    ("decompression (libdeflate)", ["libdeflate_zlib_decompress"], True),
    ("de-interleaving tiles", ["sen12lite::raster::tiles::Part::copy"], True),
    ("reading tile bytes, GDAL's open",
     ["__GI__IO_fread (inlined)", "sen12lite::raster::open::open_geotiff"], True),
    ("16-bit histograms (a count a value)", ["sen12lite::raster::stats::BandAccumulator::push_integers"], False),
    ("float bands: kept, summed, binned", ["sen12lite::raster::stats::BandAccumulator::push_f32s"], False),
    ("finishing: float last pass, sketches, percentiles",
     ["sen12lite::raster::stats::BandAccumulator::finish_into"], False),
    ("cloud mask, valid and cloudy counts, NDVI",
     ["sen12lite::raster::optical::OpticalCounts::add_strip", "sen12lite::raster::optical::OpticalMask::classify_strip"],
     False),
    ("the patch grid", ["sen12lite::raster::grid::GridPass::add_strip"], False),
    ("catalog rows", ["sen12lite::catalog::ingest::BatchWriter::write"], False),
    ("the CRS", ["sen12lite::raster::crs::CrsCache::of"], False),
    ("the main thread besides the rows", ["main"], False),
]


def task_clock(command, stdin=None):
    """Seconds of CPU `command` takes (perf stat's task-clock)."""
    env = dict(os.environ, GDAL_PAM_ENABLED="NO")
    run = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock", *command], input=stdin, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    line = next(l for l in run.stderr.splitlines() if "task-clock" in l)
    return float(line.split(",")[0]) / 1000


def ingest_command(tree, db):
    return [BIN, "ingest", str(tree), "--db", str(db), "--no-checksums", "--jobs", "1"]


def fresh(db):
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def children_shares(data):
    """Share of the samples under each function (its children included), by name."""
    report = subprocess.run(["perf", "report", "-i", str(data), "--children", "--sort", "symbol", "-g", "none",
                             "--percent-limit", "0.05"], capture_output=True, text=True, check=True).stdout
    shares = {}
    for line in report.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+[\d.]+%\s+\[.\]\s+(.*?)(\s+-\s+-)?\s*$", line)
        if m:
            shares.setdefault(m.group(2).strip(), float(m.group(1)))
    return shares


def part_shares(shares):
    """Each part's share; the main thread's without the rows its writer writes on it."""
    rows = shares.get("sen12lite::catalog::ingest::BatchWriter::write", 0.0)
    out = []
    for name, functions, gdal_too in PARTS:
        share = sum(shares.get(f, 0.0) for f in functions)
        if functions == ["main"]:
            share = max(share - rows, 0.0)
        out.append((name, share, gdal_too))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    files = "\n".join(str(p) for p in sorted(args.tree.rglob("*.tif")))
    for path in files.split("\n"):
        Path(path).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "parts.db"
        gdal, ours = [], []
        for _ in range(args.rounds):
            gdal.append(task_clock([PYTHON, str(ROOT / "bench/gdal_baseline.py"), "decode"], stdin=files))
            ours.append(task_clock(ingest_command(args.tree, fresh(db))))
        data = Path(tmp) / "perf.data"
        subprocess.run(["perf", "record", "-q", "-F", "1000", "--call-graph", "dwarf,16384", "-o", str(data),
                        *ingest_command(args.tree, fresh(db))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        parts = part_shares(children_shares(data))
    best_gdal, best_ours = min(gdal), min(ours)
    print(f"{args.tree}: one core each, task-clock, fastest of {args.rounds}")
    print(f"  GDAL decode-only, one process: {best_gdal:.2f} s   (rounds {' '.join(f'{g:.2f}' for g in gdal)})")
    print(f"  sen12lite ingest --jobs 1:     {best_ours:.2f} s   (rounds {' '.join(f'{s:.2f}' for s in ours)})")
    print(f"  ratio {best_ours / best_gdal:.2f}x; {GOAL}x of GDAL is {GOAL * best_gdal:.2f} s")
    rest = 100.0 - sum(share for _, share, _ in parts)
    parts.append(("the rest (kernel, allocator, threads)", rest, True))
    seconds = {name: share / 100 * best_ours for name, share, _ in parts}
    totals = {}
    for gdal_too, label in ((True, "decoding, as GDAL does"), (False, "the catalog's own work")):
        for name, share, _ in (p for p in parts if p[2] == gdal_too):
            print(f"  {name:<52} {share:5.1f} %  {seconds[name]:5.2f} s")
        totals[gdal_too] = sum(seconds[name] for name, _, g in parts if g == gdal_too)
        print(f"  {label:<52} {'':7}  {totals[gdal_too]:5.2f} s")
    print(f"  left for the catalog's own work at {GOAL}x: {GOAL * best_gdal - totals[True]:.2f} s")

if __name__ == "__main__":
    sys.exit(main())
