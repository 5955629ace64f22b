"""The Python package (`make wheel`): a fresh venv of pyenv's Python (whose sqlite3 cannot load
extensions) installs it with pip and reads what rasterio reads; its command ingests the catalog the
build's command does; its GDAL and PROJ are its own; uninstalling it leaves nothing behind. The
oracles are rasterio (its own GDAL) and the catalog made by target/release/sen12lite."""
import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import (ROOT, WHEEL_HOSTS, WHEELHOUSE, WINDOW, base_python, built_wheel, content_hash, py,
                      rasterio_window, s2_file)
# What the manylinux policy says every system has and a wheel must not carry: the C and C++
# runtimes, zlib, expat and the resolver.
SYSTEM_LIBRARIES = ("libc.so", "libm.so", "libstdc++.so", "libgcc_s.so", "libpthread.so", "libdl.so", "librt.so",
                    "ld-linux-x86-64.so", "linux-vdso.so", "libz.so", "libexpat.so", "libresolv.so")
@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([base_python(), "-m", "venv", venv], check=True)
    started = time.perf_counter()
    subprocess.run([venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
                    "--find-links", built_wheel().parent, "--find-links", WHEELHOUSE, "sen12lite"], check=True)
    print(f"\npip install of {built_wheel().name} ({built_wheel().stat().st_size / 1e6:.1f} MB) into a fresh venv: "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return venv


def test_a_fresh_venv_of_pyenvs_python_installs_the_wheel_and_reads_what_rasterio_reads(fresh_venv, tp_db, tmp_path):
    assert "no" == py(fresh_venv, "import sqlite3; print('yes' if hasattr(sqlite3.Connection, "
                                  "'enable_load_extension') else 'no')").strip()
    scene, path = s2_file(tp_db)
    code = (f"import sys, time; started = time.perf_counter(); import sen12lite\n"
            f"conn = sen12lite.connect(sys.argv[1])\n"
            f"blob = conn.execute(\"SELECT {WINDOW}\", (int(sys.argv[2]),)).fetchone()[0]\n"
            f"print(sen12lite.connection_module().__name__, round((time.perf_counter() - started) * 1000))\n"
            f"open(sys.argv[3], 'wb').write(blob)")
    module, first_query_ms = py(fresh_venv, code, tp_db, scene, tmp_path / "w.npy").split()
    print(f"\nimport sen12lite + connect + first s12_window: {first_query_ms} ms", file=sys.stderr)
    assert module == "pysqlite3.dbapi2"
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), rasterio_window(path, tmp_path))


def test_the_command_from_pip_ingests_the_catalog_the_build_does_with_its_own_proj(fresh_venv, tp_db, tp_tree,
                                                                                  tmp_path):
    db = tmp_path / "catalog.db"
    # PROJ_DATA pointing nowhere: the system's PROJ then fails (see the next test); the wheel's
    # finds the proj.db it carries.
    env = {"PATH": "/usr/bin:/bin", "PROJ_DATA": "/nonexistent"}
    subprocess.run([fresh_venv / "bin" / "sen12lite", "ingest", tp_tree, "--db", db], check=True, env=env,
                   capture_output=True)
    assert content_hash(db) == content_hash(tp_db)


def test_the_wheels_proj_is_its_own(fresh_venv, tp_db):
    query = "SELECT lon, lat FROM s12_pixels(390, 's2', 0, 0, 1, 1) LIMIT 1"
    from_wheel = f"import sys, sen12lite; print(sen12lite.connect(sys.argv[1]).execute({query!r}).fetchone())"
    from_dist = (f"import sys; sys.path.insert(0, {str(ROOT / 'tests' / 'python')!r}); from conftest import load; "
                 f"print(load(sys.argv[1]).execute({query!r}).fetchone())")
    nowhere = {"PATH": "/usr/bin:/bin", "PROJ_DATA": "/nonexistent"}
    system = subprocess.run(["/usr/bin/python3", "-c", from_dist, tp_db], capture_output=True, text=True, env=nowhere)
    assert "OSRImportFromEPSG" in system.stderr  # the control: the system's PROJ needs its data folder
    assert py(fresh_venv, from_wheel, tp_db, env=nowhere) == py(fresh_venv, from_wheel, tp_db) != ""


def test_the_wheel_carries_every_library_but_the_systems_own(fresh_venv):
    """The development wheel's libraries are vendored by auditwheel (site-packages/sen12lite.libs);
    the release wheel's GDAL lies beside the implementation (`make wheels`)."""
    impl = next(fresh_venv.glob("lib/python*/site-packages/sen12lite/sen12lite.libs/sen12lite_impl.so"))
    carried = (impl.parents[2] / "sen12lite.libs", impl.parent)
    lines = subprocess.run(["ldd", impl], capture_output=True, text=True, check=True).stdout.splitlines()
    resolved = {name: os.path.realpath(path) for name, _, path, *_ in (line.split() for line in lines if "=>" in line)}
    outside = {name: path for name, path in resolved.items()
               if Path(path).parent not in carried and not name.startswith(SYSTEM_LIBRARIES)}
    assert outside == {}, outside
    gdal = [name for name in resolved if "gdal" in name]
    # renamed: never the host's libgdal.so.32
    assert len(gdal) == 1 and gdal[0].startswith(("libgdal-", "libsen12lite_gdal")), gdal


def test_pip_uninstall_leaves_nothing_behind(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([base_python(), "-m", "venv", venv], check=True)
    before = set(venv.rglob("*"))
    pip = [venv / "bin" / "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--no-index", "--no-deps", built_wheel()], check=True)
    subprocess.run([*pip, "uninstall", "-y", "sen12lite"], check=True)
    left = sorted(str(p.relative_to(venv)) for p in set(venv.rglob("*")) - before if "__pycache__" not in p.parts)
    assert left == []


def test_the_wheel_names_every_file_it_installs_in_its_record():
    with zipfile.ZipFile(built_wheel()) as wheel:
        names = set(wheel.namelist())
        record = wheel.read(next(n for n in names if n.endswith(".dist-info/RECORD"))).decode()
    recorded = {line.split(",")[0] for line in record.splitlines()}
    assert {n for n in names if not n.endswith("/")} == recorded


@pytest.mark.parametrize("first", ["rasterio", "sen12lite"])
def test_the_wheels_gdal_and_rasterios_live_in_one_process(wheel_hosts, tp_db, first):
    """rasterio's wheel brings its own GDAL and PROJ: both orders of import, both read, and the
    process exits cleanly (a shared PROJ would free twice at exit)."""
    scene, path = s2_file(tp_db)
    imports = {"rasterio": "import rasterio, pyproj", "sen12lite": "import sen12lite"}
    second = "sen12lite" if first == "rasterio" else "rasterio"
    code = (f"import sys, numpy\n{imports[first]}\n{imports[second]}\n"
            "from rasterio.windows import Window\n"
            "with rasterio.open(sys.argv[2]) as d: expected = d.read([4, 3, 2], window=Window(10, 20, 64, 48))\n"
            "conn = sen12lite.connect(sys.argv[1])\n"
            f"got = sen12lite.array(conn.execute(\"SELECT {WINDOW}\", (int(sys.argv[3]),)).fetchone()[0])\n"
            "print(pyproj.Transformer.from_crs(4326, 3857).transform(45, 7))\n"
            "print(bool((got == expected).all()))")
    out = py(wheel_hosts, code, tp_db, path, scene)
    assert out.splitlines()[-1] == "True", out


@pytest.mark.parametrize("client, opening", [
    ("apsw", "import apsw; conn = apsw.Connection(sys.argv[1])"),
    ("sqlean", "import sqlean; conn = sqlean.connect(sys.argv[1])"),
    ("pysqlite3", "from pysqlite3 import dbapi2; conn = dbapi2.connect(sys.argv[1])"),
])
def test_load_takes_the_connection_of_every_client_that_can_load_extensions(wheel_hosts, tp_db, client, opening):
    code = f"import sys, sen12lite\n{opening}\nsen12lite.load(conn)\nprint(list(conn.execute('SELECT s12_season(\"2020-07-01\", 45)'))[0][0])"
    assert py(wheel_hosts, code, tp_db).strip() == "summer"


def test_load_says_what_to_do_on_a_python_that_cannot(wheel_hosts, tp_db):
    code = ("import sqlite3, sen12lite\ntry:\n    sen12lite.load(sqlite3.connect(':memory:'))\n"
            "except RuntimeError as e:\n    print(e)")
    message = py(wheel_hosts, code)
    assert "cannot load extensions" in message and "sen12lite.connect" in message, message


def test_the_plugins_leave_the_tools_working_where_the_extension_cannot_load(wheel_hosts, tmp_path):
    """pysqlite3 hidden, on pyenv's Python whose sqlite3 cannot load extensions: sqlite-utils and
    Datasette still open any database, and the plugin says once why s12_ functions are missing."""
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.commit()
    code = ("import sys, asyncio; sys.modules['pysqlite3'] = None\n"
            "import sqlite_utils\nfrom datasette.app import Datasette\n"
            "print(sqlite_utils.Database(sys.argv[1]).table_names())\n"
            "page = asyncio.run(Datasette([sys.argv[1]]).client.get('/plain.json?sql=select+count(*)+as+n+from+t&_shape=array'))\n"
            "print(page.status_code, page.json())")
    out = subprocess.run([WHEEL_HOSTS / "bin" / "python", "-c", code, plain], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["['t']", "200 [{'n': 0}]"], out.stdout
    warnings = [line for line in out.stderr.splitlines() if line.startswith("sen12lite:")]
    assert len(warnings) == 1 and "plugin cannot load the extension, s12_ functions are missing" in warnings[0], out.stderr


def requirements(machine):
    """The wheel's Requires-Dist for `machine`, as pip reads them: an extra's are asked for by
    name (distributed, notebook); a processor marker keeps pysqlite3-binary, which has wheels for
    x86-64 only, to x86-64."""
    listed = [line.split(": ", 1)[1] for line in zipfile.ZipFile(built_wheel()).read(
        "sen12lite-0.1.0.dist-info/METADATA").decode().splitlines() if line.startswith("Requires-Dist: ")]
    marked = {r.split(";")[0].strip(): r.split(";")[1].strip() for r in listed if ";" in r}
    assert sorted(marked.values()) == ['extra == "distributed"', 'extra == "notebook"', 'platform_machine == "x86_64"'], listed
    on_machine = [r for r, marker in marked.items() if marker == 'platform_machine == "x86_64"' and machine == "x86_64"]
    return [r for r in listed if ";" not in r] + on_machine


@pytest.mark.parametrize("machine, wanted", [("x86_64", ["numpy", "pysqlite3-binary"]), ("aarch64", ["numpy"])])
@pytest.mark.parametrize("python", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_every_dependency_has_a_binary_wheel_for_each_supported_python(python, machine, wanted, tmp_path):
    """pip resolves the wheel's dependencies for that CPython and processor from binary wheels
    alone (PyPI): an install compiles nothing. The wheel itself is py3-none, for every one of them."""
    requires = requirements(machine)
    assert sorted(r.split(">")[0] for r in requires) == wanted, requires
    platforms = [f"manylinux_2_35_{machine}", f"manylinux_2_28_{machine}", f"manylinux_2_17_{machine}", f"manylinux2014_{machine}"]
    out = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                          "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
                          *(f"--platform={p}" for p in platforms), "-d", tmp_path, *requires],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    tag = "cp" + python.replace(".", "")
    assert len(names) == len(wanted) and all(f"-{tag}-" in n and n.endswith(".whl") for n in names), names
