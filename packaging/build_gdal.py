"""Builds the GDAL of the release wheels (`make gdal-static`): GDAL 3.12, PROJ, SQLite, libcurl,
OpenSSL, zlib and libdeflate from the sources the registries' crates carry (packaging/gdal-static),
linked into one shared library with only GDAL's API exported, in build/gdal-static:

    lib/libsen12lite_gdal.so  the library, under a name no other GDAL has (a process holding
                              the system's libgdal never mistakes one for the other); the wheel
                              carries it beside the extension (packaging/build_wheel.py)
    lib/libgdal.so            a link to it, which gdal-sys links when GDAL_LIB_DIR names lib/
    include/                  GDAL's headers
    share/proj/proj.db        PROJ's database, of the same PROJ

Two cargo runs: libdeflate first, because GDAL's CMake must be told where it is before it
configures, and gdal-src's build script has no option for it: a CMake toolchain file (which
cmake-rs passes on from CMAKE_TOOLCHAIN_FILE) sets GDAL_USE_DEFLATE and its paths in the cache.

    python packaging/build_gdal.py [OUT_DIR]
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "packaging/gdal-static"
TARGET_DIR = ROOT / "target/gdal-static"
LIBRARY = "libsen12lite_gdal.so"
VERSION_SCRIPT = Path(__file__).resolve().parent / "gdal-static/exports.map"


def build_scripts(packages: list, env: dict) -> dict:
    """Runs cargo on the helper project; crate name -> its build script's report (out_dir,
    linked_libs, linked_paths)."""
    cmd = ["cargo", "build", "--release", "--locked", "--message-format=json",
           "--manifest-path", str(PROJECT / "Cargo.toml"), "--target-dir", str(TARGET_DIR)]
    for p in packages:
        cmd += ["-p", p]
    run = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if run.returncode:
        sys.exit(f"build_gdal: cargo failed ({run.returncode}); its messages are above")
    reports = {}
    for line in run.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "build-script-executed":
            name = msg["package_id"].split("#")[-1].split("@")[0].rsplit("/", 1)[-1]
            reports[name] = msg
    return reports


def toolchain_file(deflate: dict) -> Path:
    """The CMake cache entries that turn libdeflate on in GDAL's build, and keep proj.db out of
    PROJ's library (a static PROJ embeds it by default; the wheel ships it once, as a file)."""
    out = Path(deflate["out_dir"])
    path = TARGET_DIR / "gdal-deflate.cmake"
    path.write_text(
        'set(EMBED_RESOURCE_FILES OFF CACHE BOOL "" FORCE)\n'
        'set(GDAL_USE_DEFLATE ON CACHE BOOL "")\n'
        f'set(Deflate_INCLUDE_DIR "{out / "include"}" CACHE PATH "")\n'
        f'set(Deflate_LIBRARY_RELEASE "{out / "libdeflate.a"}" CACHE FILEPATH "")\n')
    return path


def static_libraries(reports: dict) -> list:
    """The static libraries the build scripts name, GDAL's first, each found in their paths."""
    order = ["gdal-src", "proj-sys", "libsqlite3-sys", "curl-sys", "openssl-sys", "libdeflate-sys", "libz-sys"]
    paths = [Path(p.split("=", 1)[-1]) for r in reports.values() for p in r["linked_paths"]]
    libs = []
    for crate in order:
        for lib in reports[crate]["linked_libs"]:
            kind, _, name = lib.rpartition("=")
            found = [p / f"lib{name}.a" for p in paths if (p / f"lib{name}.a").exists()]
            if kind == "static" and not found:
                sys.exit(f"build_gdal: lib{name}.a is in no linked path of the build scripts")
            if kind == "static" and found[0] not in libs:
                libs.append(found[0])
    return libs


def link_gdal(libs: list, out: Path) -> None:
    """One shared libgdal.so of the static libraries, which the command and the extension both
    link (one copy of GDAL in the wheel, not two). It exports GDAL's API only: PROJ, SQLite,
    libcurl, OpenSSL and the compressors stay inside it, never meeting a host's copies. GDAL's
    own `sqlite3_extension_init` (to load GDAL as an SQLite extension) is left out: a library
    that exports it could be taken for our extension's entry."""
    gdal, others = libs[0], libs[1:]
    hidden = ":".join(lib.name for lib in others)
    subprocess.run(["cc", "-shared", "-o", str(out), f"-Wl,-soname,{out.name}", "-Wl,--no-undefined",
                    "-Wl,--whole-archive", str(gdal), "-Wl,--no-whole-archive",
                    "-Wl,--start-group", *map(str, others), "-Wl,--end-group",
                    f"-Wl,--exclude-libs,{hidden}", "-Wl,--version-script", str(VERSION_SCRIPT),
                    "-lstdc++", "-lm", "-lpthread", "-ldl", "-s"], check=True)


def collect(reports: dict, out: Path) -> None:
    """Links lib/libsen12lite_gdal.so (and its link libgdal.so), and copies GDAL's headers and PROJ's proj.db into OUT_DIR."""
    shutil.rmtree(out, ignore_errors=True)
    (out / "lib").mkdir(parents=True)
    link_gdal(static_libraries(reports), out / f"lib/{LIBRARY}")
    (out / "lib/libgdal.so").symlink_to(LIBRARY)
    gdal_out = Path(reports["gdal-src"]["out_dir"])
    shutil.copytree(gdal_out / "include", out / "include")
    proj_db = next(Path(reports["proj-sys"]["out_dir"]).rglob("proj.db"))
    (out / "share/proj").mkdir(parents=True)
    shutil.copy(proj_db, out / "share/proj/proj.db")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build/gdal-static"
    env = dict(os.environ)
    first = build_scripts(["libdeflate-sys"], env)
    env["CMAKE_TOOLCHAIN_FILE"] = str(toolchain_file(first["libdeflate-sys"]))
    collect(build_scripts([], env), out)
    print(f"build_gdal: {out / 'lib' / LIBRARY}: {(out / 'lib' / LIBRARY).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
