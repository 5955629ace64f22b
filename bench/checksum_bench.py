"""make bench: the MD5 of the checked ingest and `sen12lite verify` (the md-5 crate, its assembly
backend) against OpenSSL's (Python's hashlib), over the same page-cached bytes, one core each:
`sen12lite verify --jobs 1` is one process hashing file after file, and so is the baseline.

The files are 1 GiB of pseudo-random bytes in 16 files (bench-data/checksums, written once). Three
rounds, the two contenders in turn (the machine drifts over minutes); the ratio of each round and
their median are printed. Goal: >= 1.0x, at least as fast as OpenSSL.
"""
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("S12_BIN", str(ROOT / "target/release/sen12lite"))
DATA = ROOT / "bench-data" / "checksums"
FILES, FILE_MB, ROUNDS = 16, 64, int(os.environ.get("BENCH_ROUNDS", "3"))


def openssl_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(64 << 10):
            digest.update(chunk)
    return digest.hexdigest()


def write_files():
    DATA.mkdir(parents=True, exist_ok=True)
    seed = hashlib.sha256(b"sen12lite checksum bench").digest()
    lines = []
    for k in range(FILES):
        path = DATA / f"part-{k:02d}.bin"
        block = hashlib.sha512(seed + bytes([k])).digest() * (1 << 14)  # 1 MiB, repeated: cheap to write
        with open(path, "wb") as f:
            for i in range(FILE_MB):
                f.write(bytes([i & 255]) + block[1:])
        lines.append(f"{openssl_md5(path)}  {path.name}\n")
    (DATA / "md5sums.txt").write_text("".join(lines))


def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main():
    if not (DATA / "md5sums.txt").exists():
        print(f"bench: writing {FILES} files of {FILE_MB} MiB into {DATA} (once)")
        write_files()
    files = sorted(DATA.glob("*.bin"))
    mib = sum(f.stat().st_size for f in files) / (1 << 20)
    for f in files:
        f.read_bytes()  # into the page cache, for both contenders

    def ours():
        out = subprocess.run([BIN, "verify", str(DATA), "--jobs", "1"], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"bench: sen12lite verify failed: {out.stdout}{out.stderr}")

    def openssl():
        for f in files:
            openssl_md5(f)

    ratios = []
    for round_ in range(ROUNDS):
        baseline, mine = timed(openssl), timed(ours)
        ratios.append(baseline / mine)
        print(f"round {round_ + 1}: OpenSSL (hashlib) {mib / baseline:6.0f} MiB/s   sen12lite verify (md-5 asm) "
              f"{mib / mine:6.0f} MiB/s   ratio {baseline / mine:.2f}x")
    print(f"md5 of {mib:.0f} MiB, one core each: median ratio {statistics.median(ratios):.2f}x  (goal >= 1.0x: at "
          "least as fast as OpenSSL)")


if __name__ == "__main__":
    main()
