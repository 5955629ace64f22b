"""Forked readers (PyTorch's DataLoader workers): the parent reads every scene once, then forks
4 children (two open a new connection, two use the inherited one) and reads beside them; each
process compares 300 random 64 px windows of every S2 file with GDAL's own read.
Usage: /usr/bin/python3 fork_readers.py EXT DB. Prints one JSON line per process."""
import io
import json
import os
import random
import sqlite3
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
ext, db = sys.argv[1:3]


def connect():
    conn = sqlite3.connect(db)
    conn.enable_load_extension(True)
    conn.load_extension(ext)
    return conn


def s2_files(conn):
    root = conn.execute("SELECT value FROM s12_meta WHERE key = 'data_root'").fetchone()[0]
    rows = conn.execute("SELECT scene_id, path, width, height FROM files WHERE modality = 's2' ORDER BY scene_id").fetchall()
    return [(scene, os.path.join(root, path), width, height) for scene, path, width, height in rows]


def read_and_compare(conn, who, seed):
    rng = random.Random(seed)
    files = s2_files(conn)
    result = {"who": who, "pid": os.getpid(), "windows": 0, "wrong": 0, "errors": []}
    for _ in range(300):
        scene, path, width, height = rng.choice(files)
        col, row = rng.randrange(width - 64), rng.randrange(height - 64)
        try:
            blob = conn.execute("SELECT s12_window(?, 's2', '*', ?, ?, 64, 64)", (scene, col, row)).fetchone()[0]
        except sqlite3.Error as e:
            result["errors"].append(str(e))
            continue
        expected = gdal.Open(path).ReadAsArray(col, row, 64, 64)
        result["windows"] += 1
        result["wrong"] += not np.array_equal(np.load(io.BytesIO(blob)), expected)
    return result


def report(result):
    """One JSON line in one write(2): the five processes share the pipe, and print's separate
    writes of a line and its newline can interleave with another process's line."""
    os.write(1, (json.dumps(result) + "\n").encode())


parent = connect()
for scene, _, _, _ in s2_files(parent):
    parent.execute("SELECT s12_window(?, 's2', '*', 0, 0, 8, 8)", (scene,)).fetchone()
children = []
for k in range(4):
    pid = os.fork()
    if pid == 0:
        conn = connect() if k % 2 == 0 else parent
        report(read_and_compare(conn, "child, new connection" if k % 2 == 0 else "child, inherited connection", k))
        os._exit(0)
    children.append(pid)
report(read_and_compare(parent, "parent", 99))
failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
sys.exit(1 if failed else 0)
