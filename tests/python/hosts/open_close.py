"""A connection opened, loaded, used and closed N times in one process: file descriptors and
resident memory must not grow. Usage: /usr/bin/python3 open_close.py EXT DB SCENE N. Prints JSON."""
import json
import os
import sqlite3
import sys

ext, db, scene, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def fds():
    return len(os.listdir("/proc/self/fd"))


def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def one_round():
    conn = sqlite3.connect(db)
    conn.enable_load_extension(True)
    conn.load_extension(ext)
    value = conn.execute("SELECT s12_pixel(?, 's2', 'B4', 7, 9)", (scene,)).fetchone()[0]
    conn.close()
    return value


samples = {}
for i in range(1, n + 1):
    one_round()
    if i in (n // 10, n):
        samples[i] = {"fds": fds(), "rss_kib": rss_kib()}
print(json.dumps(samples))
