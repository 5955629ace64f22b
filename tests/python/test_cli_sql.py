"""`sen12lite sql` (src/cli/sql.rs): the s12_ functions for clients that cannot load extensions."""
import os
import sqlite3
import subprocess

import numpy as np
import pytest

from conftest import BIN, ROOT, run
from oracles import SCENE, gdal_array


def test_sql_verb_prints_columns_and_writes_blobs(tp_db, tmp_path):
    out = run("sql", tp_db, "SELECT 1 AS one; SELECT name FROM s12_indices WHERE name = 'ndvi'").stdout
    assert out.split() == ["one", "---", "1", "name", "----", "ndvi"]
    npy = tmp_path / "w.npy"
    run("sql", tp_db, f"SELECT s12_window({SCENE}, 's2', 'B8', 5, 6, 30, 20)", "--blob", npy)
    conn = sqlite3.connect(tp_db)
    _, s2 = gdal_array(conn, SCENE, "s2")
    assert np.array_equal(np.load(npy)[0], s2[7, 6:26, 5:35])
    bad = run("sql", tp_db, "SELECT s12_window(99999, 's2', 'B4', 0, 0, 1, 1)", check=False)
    assert bad.returncode == 2 and "s12_window: no scene 99999 in the catalog" in bad.stderr
    missing = run("sql", tmp_path / "nope.db", "SELECT 1", check=False)
    assert missing.returncode == 2 and "cannot open" in missing.stderr and not (tmp_path / "nope.db").exists()


EXAMPLES = sorted((ROOT / "sql" / "examples").glob("*.sql"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_example_runs_pasted_from_a_file_and_from_standard_input(tp_db, example):
    """As users paste them (`"$(cat sql/examples/03_....sql)"`: the leading `--` comment is SQL, not a
    flag), with `-f FILE`, and from standard input (no SQL, or `-`): the same table each way."""
    sql = example.read_text()
    assert sql.startswith("--")
    pasted = subprocess.run(["bash", "-c", '"$S12_BIN" sql "$DB" "$(cat "$EXAMPLE")"'], capture_output=True, text=True,
                            env={**os.environ, "S12_BIN": BIN, "DB": str(tp_db), "EXAMPLE": str(example)})
    assert pasted.returncode == 0 and pasted.stdout.splitlines()[1].startswith("-"), pasted.stderr
    assert run("sql", tp_db, "-f", example).stdout == pasted.stdout
    for args in ([], ["-"]):
        piped = subprocess.run([BIN, "sql", str(tp_db), *args], input=sql, capture_output=True, text=True)
        assert piped.returncode == 0 and piped.stdout == pasted.stdout, piped.stderr


def test_sql_and_a_file_together_are_refused(tp_db):
    both = run("sql", tp_db, "SELECT 1", "-f", EXAMPLES[0], check=False)
    assert both.returncode == 2 and "cannot be used with" in both.stderr
    missing = run("sql", tp_db, "-f", "/nonexistent.sql", check=False)
    assert missing.returncode == 2 and "sql: cannot read /nonexistent.sql" in missing.stderr
