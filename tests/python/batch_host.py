"""A fresh Python host for memory figures (test_memory_bounds.py, bench/extension_bench.py): runs
one statement on the catalog argv[1] with the extension argv[2] loaded and fetches its BLOB, a
batch, as `bytes`. Prints the result's length, the host's peak memory before and after (VmHWM,
kB; unlike ru_maxrss it starts afresh at exec) and the first value of bands 1 and 8 of the first
two windows (viewed in place: a copy would add to the peak); then, given a statement argv[4],
drops the result, runs it and prints the host's memory (VmRSS, kB)."""
import io
import sqlite3
import sys

import numpy as np


def status(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))


conn = sqlite3.connect(sys.argv[1])
conn.enable_load_extension(True)
conn.load_extension(sys.argv[2])
before = status("VmHWM")
blob = conn.execute(sys.argv[3]).fetchone()[0]
head = io.BytesIO(blob[:4096])
np.lib.format.read_magic(head)
shape, _, dtype = np.lib.format.read_array_header_1_0(head)
batch = np.frombuffer(blob, dtype, offset=head.tell()).reshape(shape)
print(len(blob), before, status("VmHWM"), *batch[:2, [0, 7], 0, 0].ravel())
if len(sys.argv) > 4:
    del batch, blob
    conn.execute(sys.argv[4]).fetchone()
    print(status("VmRSS"))
