"""Builds one release wheel (`make wheels`) for TARGET, a Rust target triple with the glibc version
zig builds for (`x86_64-unknown-linux-gnu.2.28` gives a manylinux_2_28 wheel): the GDAL of its own
(packaging/build_gdal.py, into build/gdal-TARGET), then the command and the extension, linked to
it, with cargo-zigbuild, then the wheel (packaging/build_wheel.py), into dist/release/. Run it with
the Python of build/wheeltools (auditwheel, cargo-zigbuild and zig are there); SHIM_CFLAGS are the
entry library's compiler flags, the Makefile's.

    build/wheeltools/bin/python packaging/release_wheel.py TARGET
"""
import os
import shlex
import subprocess
import sys
from pathlib import Path

import build_gdal
import build_wheel

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "build/wheeltools/bin"
GDAL_VERSION = "3.12.1"  # gdal-src's: gdal-sys takes the bindings of this version
SQLITE_FLOOR = ROOT / "vendor/sqlite-3.31.0"  # the headers the extension is built against (Makefile)
SQLITE_FLOOR_HEADERS = ROOT / "packaging/sqlite-floor-cross"  # its sqlite3ext.h as bindgen must read it


def run(cmd: list, env: dict = None, cwd: Path = ROOT) -> None:
    print("release_wheel:", shlex.join(map(str, cmd)), flush=True)
    subprocess.run(cmd, check=True, cwd=cwd, env=env)


def zigbuild(*args, env: dict) -> None:
    """cargo-zigbuild on the project, run from outside the checkout: inside it, `zig env` names
    zig's folder (build/wheeltools/...) relative to the current folder, and cargo-zigbuild hands
    bindgen that relative path, which a build script, run in its crate's folder, cannot find."""
    run([TOOLS / "cargo-zigbuild", *args, "--manifest-path", ROOT / "Cargo.toml", "--release", "--locked"], env,
        cwd=ROOT / "target")


def cargo_env(gdal_dir: Path) -> dict:
    """gdal-sys links the folder's libgdal.so; pkg-config is pointed at an empty folder so that
    nothing of the system's GDAL reaches the build. The wheel puts the GDAL library beside the
    extension's implementation (sen12lite/sen12lite.libs/), one folder from the command's."""
    nothing = ROOT / "build/no-pkg-config"
    nothing.mkdir(parents=True, exist_ok=True)
    return os.environ | {
        "PATH": f"{TOOLS}:{os.environ['PATH']}",
        "GDAL_LIB_DIR": str(gdal_dir / "lib"),
        "GDAL_INCLUDE_DIR": str(gdal_dir / "include"),
        "GDAL_VERSION": GDAL_VERSION,
        "PKG_CONFIG_LIBDIR": str(nothing),
        "RUSTFLAGS": "-C link-arg=-Wl,-rpath,$ORIGIN:$ORIGIN/../sen12lite.libs",
        # stripped by the linker: auditwheel's --strip runs this machine's strip, which cannot
        # read an aarch64 file
        "CARGO_PROFILE_RELEASE_STRIP": "symbols",
    }


def main(target: str) -> None:
    zig = build_gdal.Zig(target)
    gdal_dir = ROOT / f"build/gdal-{target}"
    build_gdal.build(zig, gdal_dir)
    # zig's flags for C too: our own libdeflate (libdeflate-sys) needs them as GDAL's does.
    env = cargo_env(gdal_dir) | zig.environment()
    zigbuild("zigbuild", "--target", target, "--target-dir", ROOT / "target/static", env=env)
    floor = {"SQLITE3_LIB_DIR": str(SQLITE_FLOOR), "SQLITE3_INCLUDE_DIR": str(SQLITE_FLOOR_HEADERS)}
    zigbuild("rustc", "--target", target, "--lib", "--no-default-features", "--features", "loadable",
             "--crate-type", "cdylib", "--target-dir", ROOT / "target/static-loadable", env=env | floor)
    release = build_wheel.ReleaseBuild(gdal_dir, zig.rust_target)
    run([*zig.compiler("cc"), *shlex.split(os.environ["SHIM_CFLAGS"]), "-s", "-o", release.shim,
         "src/extension/shim.c", "-ldl"])
    build_wheel.main(ROOT / "dist/release", release)


if __name__ == "__main__":
    main(sys.argv[1])
