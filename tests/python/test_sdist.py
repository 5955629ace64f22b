"""The source distribution (`make sdist`, packaging/source_build.py): pip builds it in a fresh venv
of pyenv's Python with cargo against the system's GDAL, offline (no build requirement to fetch), and
the package it installs reads what rasterio reads and ingests the catalog the build's command does;
where cargo, GDAL's development files or libclang are missing, pip's error says what to install. The oracles
are rasterio (its own GDAL) and the catalog made by target/release/sen12lite.

The build compiles the crate from nothing, twice (the command and the extension): several minutes
on 2 cores, printed by the fixture."""
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, WHEELHOUSE, WINDOW, base_python, content_hash, py, rasterio_window, s2_file

@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    out = tmp_path_factory.mktemp("sdist")
    subprocess.run([sys.executable, ROOT / "packaging" / "source_build.py", out], check=True, capture_output=True)
    (archive,) = out.glob("sen12lite-*.tar.gz")
    return archive


def pip_install(sdist, venv, env=None):
    """pip installs the sdist into a new venv, offline; the CompletedProcess, output and errors in one."""
    subprocess.run([base_python(), "-m", "venv", venv], check=True)
    return subprocess.run([venv / "bin" / "pip", "install", "--disable-pip-version-check", "--no-index",
                           "--find-links", WHEELHOUSE, sdist], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def built(sdist, tmp_path_factory):
    venv = tmp_path_factory.mktemp("from-sdist") / "venv"
    started = time.perf_counter()
    result = pip_install(sdist, venv)
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"\npip install of {sdist.name} ({sdist.stat().st_size / 1e6:.1f} MB), built from source: "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return venv


def test_the_sdist_holds_the_sources_and_nothing_built(sdist):
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames()}
    assert {"PKG-INFO", "pyproject.toml", "Cargo.lock", "src/main.rs", "vendor/sqlite-3.31.0/sqlite3ext.h",
            "src/extension/shim.c", "data/sen12tp-metadata.json", "python/sen12lite/__init__.py"} <= names
    assert not [n for n in names if n.startswith(("target/", "dist/", "build/", "tests/")) or "__pycache__" in n]


def test_pip_builds_it_against_the_systems_gdal_and_it_reads_what_rasterio_reads(built, tp_db, tmp_path):
    scene, path = s2_file(tp_db)
    code = (f"import sys, sen12lite\n"
            f"blob = sen12lite.connect(sys.argv[1]).execute(\"SELECT {WINDOW}\", (int(sys.argv[2]),)).fetchone()[0]\n"
            f"open(sys.argv[3], 'wb').write(blob)")
    py(built, code, tp_db, scene, tmp_path / "w.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), rasterio_window(path, tmp_path))
    impl = next(built.glob("lib/python*/site-packages/sen12lite/sen12lite.libs/sen12lite_impl.so"))
    assert gdal_of(impl) == gdal_of(shutil.which("gdalinfo"))  # the system's GDAL, not a vendored copy


def gdal_of(program):
    """The GDAL library a program or library loads, as a real path."""
    libraries = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
    (gdal,) = [line.split()[2] for line in libraries.splitlines() if line.split()[0].startswith("libgdal")]
    return os.path.realpath(gdal)


def test_the_command_it_installs_ingests_the_catalog_the_build_does(built, tp_db, tp_tree, tmp_path):
    db = tmp_path / "catalog.db"
    subprocess.run([built / "bin" / "sen12lite", "ingest", tp_tree, "--db", db], check=True, capture_output=True)
    assert content_hash(db) == content_hash(tp_db)


def path_without(program):
    """$PATH without the folders that hold `program`."""
    return os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / program).exists())


def test_without_cargo_pip_says_to_install_rust(sdist, tmp_path):
    result = pip_install(sdist, tmp_path / "venv", env={**os.environ, "PATH": path_without("cargo")})
    assert result.returncode != 0
    rust = re.search(r'^rust-version = "(.+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    assert f"sen12lite: building from source needs Rust's cargo {rust} or newer" in result.stderr, result.stderr
    assert "https://rustup.rs" in result.stderr


def test_without_gdals_development_files_pip_names_the_package(sdist, tmp_path):
    nowhere = tmp_path / "no-pkgconfig"
    nowhere.mkdir()
    result = pip_install(sdist, tmp_path / "venv", env={**os.environ, "PKG_CONFIG_LIBDIR": str(nowhere),
                                                       "PKG_CONFIG_PATH": ""})
    assert result.returncode != 0
    assert "sen12lite: building from source needs GDAL's development files: apt install libgdal-dev" in result.stderr, \
        result.stderr


def test_without_libclang_pip_names_the_package_bindgen_needs(sdist, tmp_path):
    """bindgen (the extension's bindings to SQLite 3.31's headers) fails in the build itself, not
    in the checks: its output is read for the cause."""
    result = pip_install(sdist, tmp_path / "venv", env={**os.environ, "LIBCLANG_PATH": str(tmp_path)})
    assert result.returncode != 0
    assert "sen12lite: building from source needs libclang, for bindgen: apt install libclang-dev" in result.stderr, \
        result.stderr
