"""Fixtures: trees synthesized by `sen12lite synth` and catalogs ingested from them.

The oracle in these tests is GDAL's Python bindings plus numpy: pixels are read independently of
the Rust code and every figure of the catalog is recomputed from them.
"""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("S12_BIN", str(ROOT / "target" / "release" / "sen12lite"))
METADATA = ROOT / "data" / "sen12tp-metadata.json"


def run(*args, check=True):
    """Runs the sen12lite command; returns the CompletedProcess."""
    result = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"sen12lite {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
    return result


def connect(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


@pytest.fixture(scope="session")
def tp_tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("sen12tp") / "data"
    run("synth", out, "--layout", "sen12tp", "--scenes", 8, "--size", 240, "--seed", 3)
    return out


@pytest.fixture(scope="session")
def tp_db(tp_tree, tmp_path_factory):
    db = tmp_path_factory.mktemp("tpdb") / "catalog.db"
    run("ingest", tp_tree, "--db", db)
    return db


@pytest.fixture(scope="session")
def ms_tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("sen12ms") / "data"
    run("synth", out, "--layout", "sen12ms", "--scenes", 14, "--size", 64, "--seed", 5)
    return out


@pytest.fixture(scope="session")
def ms_db(ms_tree, tmp_path_factory):
    db = tmp_path_factory.mktemp("msdb") / "catalog.db"
    run("ingest", ms_tree, "--db", db)
    return db


@pytest.fixture
def tp_copy(tp_tree, tmp_path):
    """A private copy of the SEN12TP tree that a test may damage."""
    copy = tmp_path / "data"
    shutil.copytree(tp_tree, copy)
    return copy
