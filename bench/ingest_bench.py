"""make bench: the ingest against GDAL on the same cores, in one run, on both layouts.

Baselines, each in as many processes as the ingest has threads (the machine's cores), the files
dealt out so that each process gets the same bytes:
- decode-only: GDAL opens each file and decodes every pixel of every band (bench/gdal_baseline.py);
  the floor of any pass that reads every pixel;
- GDAL's statistics: `Band.ComputeStatistics` of every band (min, max, mean, stddev; no percentiles,
  sketches, cloud fractions, NDVI, land-cover mix or patch grid, which the ingest also computes).
The ingest runs with `--no-checksums` (GDAL checks no md5). Best of ROUNDS rounds, each round every
contender in turn; files in the page cache. Two trees, synthesized once into bench-data/: SEN12TP
scenes of 2000 px (few big files) and SEN12MS triplets of 256 px (many small files), a few a scene
over many UTM zones; and the same number of SEN12MS triplets in one scene, one zone and folders of 400
files, closer to the real dataset (180,662 patches over 252 scenes: about 700 a scene).
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from osgeo import gdal

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
# The release wheel's command (GDAL 3.12 of its own, `make wheels`), timed beside BIN when present.
RELEASE_BIN = ROOT / "build/release-wheel/sen12lite/bin/sen12lite"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CORES = os.cpu_count() or 1
PYTHON = "/usr/bin/python3"

TRIPLETS = int(os.environ.get("BENCH_TRIPLETS", "400"))
TREES = [
    # (name, layout, scenes or triplets, size, extra synth arguments)
    ("sen12tp", "sen12tp", int(os.environ.get("BENCH_SCENES", "10")), 2000, []),
    ("sen12ms", "sen12ms", TRIPLETS, 256, []),
]
# The SEN12MS triplets as the real dataset holds them: hundreds to a scene, one UTM zone and one
# folder of each kind.
ONE_SCENE = ("sen12ms in one scene", "sen12ms", TRIPLETS, 256, ["--patches-per-scene", str(TRIPLETS)])


def tree(name, layout, scenes, size, extra):
    data = ROOT / "bench-data" / name.replace(" ", "-")
    stamp = data / f".synth-{scenes}-{size}{''.join(extra)}"
    if not stamp.exists():
        shutil.rmtree(data, ignore_errors=True)
        print(f"bench: synthesizing {scenes} {layout} scenes or triplets of {size} px into {data} (once)", flush=True)
        subprocess.run([BIN, "synth", data, "--layout", layout, "--scenes", str(scenes), "--size", str(size), *extra],
                       check=True, stdout=subprocess.DEVNULL)
        stamp.touch()
    return data


def dealt(files, hands):
    """The files in `hands` lists of about equal bytes (largest first, each to the lightest hand)."""
    out = [[] for _ in range(hands)]
    weight = [0] * hands
    for f in sorted(files, key=lambda f: -f.stat().st_size):
        i = weight.index(min(weight))
        out[i].append(str(f))
        weight[i] += f.stat().st_size
    return out


def gdal_in_processes(mode, files):
    """Seconds for CORES GDAL processes to go through `files` (`mode`: decode | statistics)."""
    env = dict(os.environ, GDAL_PAM_ENABLED="NO")
    start = time.perf_counter()
    workers = [subprocess.Popen([PYTHON, str(ROOT / "bench/gdal_baseline.py"), mode], stdin=subprocess.PIPE, env=env)
               for _ in range(CORES)]
    for worker, hand in zip(workers, dealt(files, CORES)):
        worker.stdin.write("\n".join(hand).encode())
        worker.stdin.close()
    if any(w.wait() != 0 for w in workers):
        sys.exit(f"bench: a GDAL {mode} worker failed")
    return time.perf_counter() - start


def ingest(data, *flags, command=BIN):
    """(seconds, peak resident MB, bytes of its quicklooks) of one ingest into a new catalog."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        process = subprocess.Popen([command, "ingest", str(data), "--db", f"{tmp}/bench.db", "--no-checksums", *flags],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: ingest of {data} failed")
        with sqlite3.connect(f"{tmp}/bench.db") as conn:
            kept = conn.execute("SELECT coalesce(sum(length(png)), 0) FROM quicklooks").fetchone()[0]
    return seconds, usage.ru_maxrss / 1024, kept


def warm(files):
    """Reads `files` into the page cache. On the VMs we run on, cached pages leave within minutes
    with gigabytes of memory free (`fincore`: 11 % of the SEN12TP tree a minute after it was read),
    so each contender gets its files read again just before it runs: none of them times the disk."""
    for f in files:
        f.read_bytes()


def one_round(data, files):
    """Seconds of each contender, one after the other, in one round."""
    contenders = {
        "decode": lambda: gdal_in_processes("decode", files),
        "statistics": lambda: gdal_in_processes("statistics", files),
        "ingest": lambda: ingest(data),
        "none": lambda: ingest(data, "--quicklooks", "none"),
        "all": lambda: ingest(data, "--quicklooks", "all"),
    }
    if RELEASE_BIN.exists():
        contenders["release"] = lambda: ingest(data, command=RELEASE_BIN)
    seconds = {}
    for what, run in contenders.items():
        warm(files)
        seconds[what] = run()
    return seconds


def bench_tree(name, layout, data, scenes, size):
    files = sorted(data.rglob("*.tif"))
    # Rounds of every contender in turn, not every round of one contender and then the next: a
    # machine whose speed drifts by 10 % over a minute (a shared VM) then slows all of them alike,
    # and each round's own ratio shows how far one run may be from another.
    rounds = [one_round(data, files) for _ in range(ROUNDS)]
    best = {what: min(r[what] for r in rounds) for what in rounds[0]}
    decode, statistics = best["decode"], best["statistics"]
    (ours, peak, kept), (without, _, _), (every, _, every_kept) = best["ingest"], best["none"], best["all"]

    def each(ratio):
        return " ".join(f"{ratio(r):.2f}" for r in rounds)

    mb = sum(f.stat().st_size for f in files) / 1e6
    unit = "scenes" if layout == "sen12tp" else "triplets"  # a triplet is a scene of the catalog
    print(f"{name}: {len(files)} GeoTIFFs, {mb:.0f} MB, {scenes} {unit} of {size} px, {CORES} cores, best of {ROUNDS}")
    print(f"  GDAL decode-only, {CORES} processes:        {decode:6.2f} s")
    print(f"  GDAL ComputeStatistics, {CORES} processes:  {statistics:6.2f} s")
    print(f"  sen12lite ingest --no-checksums:       {ours:6.2f} s   peak RSS {peak:.0f} MB (goal < 512 MB)")
    print(f"  ingest / decode-only:                  {ours / decode:6.2f}x  (goal <= 1.15x)   "
          f"each round: {each(lambda r: r['ingest'][0] / r['decode'])}")
    print(f"  GDAL statistics / ingest:              {statistics / ours:6.2f}x  (goal > 1x: faster than GDAL's)   "
          f"each round: {each(lambda r: r['statistics'] / r['ingest'][0])}")
    print(f"  ingest --quicklooks none:              {without:6.2f} s   the default (large) {ours / without:.2f}x "
          f"(goal <= 1.03x), keeping {kept / scenes / 1024:.0f} KiB a scene")
    print(f"  ingest --quicklooks all:               {every:6.2f} s   {every / without:.2f}x, "
          f"keeping {every_kept / scenes / 1024:.0f} KiB a scene")
    if "release" in best:
        release = best["release"][0]
        print(f"  the release wheel's ingest (GDAL 3.12): {release:6.2f} s   {release / decode:.2f}x decode-only, "
              f"{release / ours:.2f}x this build's (GDAL {gdal.__version__})")


def main():
    for name, layout, scenes, size, extra in [*TREES, ONE_SCENE]:
        bench_tree(name, layout, tree(name, layout, scenes, size, extra), scenes, size)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "data/sen12tp-metadata.json", f"{tmp}/sen12tp-metadata.json")
        start = time.perf_counter()
        subprocess.run([BIN, "ingest", tmp, "--db", f"{tmp}/meta.db"], check=True, capture_output=True)
        print(f"metadata-only ingest of the real file (2319 scenes): {time.perf_counter() - start:.2f} s  (goal < 2 s)")


if __name__ == "__main__":
    main()
