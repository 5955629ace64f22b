"""Node's clients: better-sqlite3 (from the npm registry, `make node`) loads the extension and reads
an s12_window blob that equals GDAL's read (node:sqlite: test_clients.py)."""
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing

import numpy as np
import pytest

from conftest import EXT, ROOT
from oracles import SCENE, gdal_window

NODE = shutil.which("node")
MODULES = ROOT / "build" / "node" / "node_modules"


def run_node(*args):
    env = {**os.environ, "NODE_PATH": str(MODULES)}
    return subprocess.run([NODE, *map(str, args)], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(NODE is None or not (MODULES / "better-sqlite3").exists(),
                    reason="no node or no better-sqlite3 in build/node: run `make node`")
def test_better_sqlite3_loads_the_extension_and_reads_gdals_window(tp_db):
    out = run_node(ROOT / "tests" / "node" / "window.js", tp_db, EXT, SCENE)
    assert out.returncode == 0, out.stderr
    array = json.loads(out.stdout)
    with closing(sqlite3.connect(tp_db)) as conn:
        expected = gdal_window(conn, SCENE, "s2", [4, 8], 5, 7, 32, 16)
    assert array["dtype"] == "<u2" and array["shape"] == [2, 16, 32]
    np.testing.assert_array_equal(np.array(array["values"]).reshape(array["shape"]), expected)
