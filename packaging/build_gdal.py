"""Builds the GDAL of the release wheels (packaging/release_wheel.py, `make wheels`): GDAL 3.12,
PROJ, SQLite, libcurl, OpenSSL, zlib and libdeflate from the sources the registries' crates carry
(packaging/gdal-static), compiled by zig for TARGET, a Rust target triple with the glibc version
after a dot (`x86_64-unknown-linux-gnu.2.28`: manylinux_2_28, every C and C++ library compiled
against glibc 2.28's symbols and linked with zig's libc++), linked into one shared library with
only GDAL's API exported, in OUT_DIR (build/gdal-TARGET):

    lib/libsen12lite_gdal.so  the library, under a name no other GDAL has (a process holding
                              the system's libgdal never mistakes one for the other); the wheel
                              carries it beside the extension (packaging/build_wheel.py)
    lib/libgdal.so            a link to it, which gdal-sys links when GDAL_LIB_DIR names lib/
    include/                  GDAL's headers
    share/proj/proj.db        PROJ's database, of the same PROJ

Two cargo runs: libdeflate first, because GDAL's CMake must be told where it is before it
configures, and gdal-src's build script has no option for it: a CMake toolchain file (which
cmake-rs passes on from CMAKE_TOOLCHAIN_FILE_<target>) sets GDAL_USE_DEFLATE and its paths in the
cache.

    build/wheeltools/bin/python packaging/build_gdal.py TARGET [OUT_DIR]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "packaging/gdal-static"
TARGET_DIR = ROOT / "target/gdal-static"
TOOLS = ROOT / "build/wheeltools/bin"  # the venv of packaging/requirements.txt
LIBRARY = "libsen12lite_gdal.so"
VERSION_SCRIPT = Path(__file__).resolve().parent / "gdal-static/exports.map"


class Zig:
    """The build with zig for `triple` (`x86_64-unknown-linux-gnu.2.28`: the glibc version after the
    dot). cargo-zigbuild hands the build scripts zig as C and C++ compiler (CC_<target>) and writes
    a CMake toolchain file beside that wrapper, which ours includes (cmake-rs takes the toolchain
    file of the target's variable first, so ours must be that one)."""

    def __init__(self, triple: str):
        self.triple = triple
        self.toolchain_name = f"gdal-deflate-{triple}.cmake"
        self.rust_target = triple.split(".")[0]
        self.variable_suffix = self.rust_target.replace("-", "_")  # of CC_<target> and the like
        arch, _, system, abi = self.rust_target.split("-")
        self.zig_target = f"{arch}-{system}-{abi}" + triple[len(self.rust_target):]

    def cargo(self) -> list:
        return [str(TOOLS / "cargo-zigbuild"), "zigbuild", "--target", self.triple]

    def environment(self) -> dict:
        """cargo-zigbuild runs zig as `python3 -m ziglang`: the tools' venv comes first. zig's
        clang wants `evex512` named for libdeflate's AVX-512 functions (which it picks at run
        time, by the processor), where GCC takes them as they are."""
        flags = {f"CFLAGS_{self.variable_suffix}": "-mevex512"} if self.triple.startswith("x86_64") else {}
        return {"PATH": f"{TOOLS}:{os.environ['PATH']}", **flags}

    def toolchain_env(self, path: Path) -> dict:
        return {f"CMAKE_TOOLCHAIN_FILE_{self.variable_suffix}": str(path)}

    def cmake_preamble(self) -> str:
        return (f'get_filename_component(ZIG_WRAPPERS "$ENV{{CC_{self.variable_suffix}}}" DIRECTORY)\n'
                f'include("${{ZIG_WRAPPERS}}/cmake/{self.rust_target}-toolchain.cmake")\n')

    def compiler(self, language: str) -> list:
        """zig's `cc` or `c++` for the target."""
        return [str(TOOLS / "python"), "-m", "ziglang", language, "-target", self.zig_target]

    def linker(self) -> list:
        """zig's c++, which links its libc++ statically and glibc's libraries by itself, but no
        crtbeginS.o: finalize.c makes the call on unloading that GCC's crtbeginS.o makes."""
        return [*self.compiler("c++"), str(PROJECT / "finalize.c")]


def build_scripts(packages: list, env: dict, toolchain: Zig) -> dict:
    """Runs cargo on the helper project; crate name -> its build script's report (out_dir,
    linked_libs, linked_paths)."""
    cmd = [*toolchain.cargo(), "--release", "--locked", "--message-format=json",
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


def toolchain_file(deflate: dict, toolchain: Zig) -> Path:
    """The CMake cache entries that turn libdeflate on in GDAL's build, and keep proj.db out of
    PROJ's library (a static PROJ embeds it by default; the wheel ships it once, as a file)."""
    out = Path(deflate["out_dir"])
    path = TARGET_DIR / toolchain.toolchain_name
    path.write_text(
        toolchain.cmake_preamble() +
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


def link_gdal(libs: list, out: Path, toolchain: Zig) -> None:
    """One shared libgdal.so of the static libraries, which the command and the extension both
    link (one copy of GDAL in the wheel, not two). It exports GDAL's API only: PROJ, SQLite,
    libcurl, OpenSSL and the compressors stay inside it, never meeting a host's copies. GDAL's
    own `sqlite3_extension_init` (to load GDAL as an SQLite extension) is left out: a library
    that exports it could be taken for our extension's entry."""
    gdal, others = libs[0], libs[1:]
    subprocess.run([*toolchain.linker(), "-shared", "-o", str(out), f"-Wl,-soname,{out.name}", "-Wl,--no-undefined",
                    "-Wl,--whole-archive", str(gdal), "-Wl,--no-whole-archive",
                    "-Wl,--start-group", *map(str, others), "-Wl,--end-group",
                    f"-Wl,--version-script={VERSION_SCRIPT}", "-s"], check=True)


def collect(reports: dict, out: Path, toolchain: Zig) -> None:
    """Links lib/libsen12lite_gdal.so (and its link libgdal.so), and copies GDAL's headers and PROJ's proj.db into OUT_DIR."""
    shutil.rmtree(out, ignore_errors=True)
    (out / "lib").mkdir(parents=True)
    link_gdal(static_libraries(reports), out / f"lib/{LIBRARY}", toolchain)
    (out / "lib/libgdal.so").symlink_to(LIBRARY)
    gdal_out = Path(reports["gdal-src"]["out_dir"])
    shutil.copytree(gdal_out / "include", out / "include")
    proj_db = next(Path(reports["proj-sys"]["out_dir"]).rglob("proj.db"))
    (out / "share/proj").mkdir(parents=True)
    shutil.copy(proj_db, out / "share/proj/proj.db")


def build(toolchain: Zig, out: Path) -> None:
    """GDAL and what it links, built by `toolchain`, collected into `out`."""
    env = dict(os.environ) | toolchain.environment()
    first = build_scripts(["libdeflate-sys"], env, toolchain)
    env |= toolchain.toolchain_env(toolchain_file(first["libdeflate-sys"], toolchain))
    collect(build_scripts([], env, toolchain), out, toolchain)
    library = out / "lib" / LIBRARY
    print(f"build_gdal: {library}: {library.stat().st_size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a Rust target triple and the glibc version: x86_64-unknown-linux-gnu.2.28")
    parser.add_argument("out", nargs="?", type=Path, help="default: build/gdal-TARGET")
    args = parser.parse_args()
    build(Zig(args.target), args.out or ROOT / f"build/gdal-{args.target}")


if __name__ == "__main__":
    main()
