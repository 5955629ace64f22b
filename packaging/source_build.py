"""The build backend of sen12lite's source distribution (PEP 517; pyproject.toml names it), for
the platforms the binary wheel does not cover: `pip install sen12lite-*.tar.gz` compiles the
command and the loadable extension against the system's GDAL with the Makefile's own recipes
(`make ext build`, without their apt step) and packs them as build_wheel.py does, without
auditwheel's vendoring: the wheel links the GDAL and PROJ it was built on, and uses their data.

It needs no Python package to build (requires = []), so pip installs it offline. What it needs
from the system is checked first, and a missing piece is named with the command that installs it.

    make sdist        # dist/sen12lite-VERSION.tar.gz
"""

import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import build_wheel as wheels  # the module; build_wheel below is the PEP 517 hook

ROOT = Path(__file__).resolve().parent.parent
# What the build reads: the crate, the headers of the oldest SQLite it loads into, the Python
# package, the SQL it embeds or ships, the real SEN12TP metadata, and the recipes.
SOURCES = ["Cargo.toml", "Cargo.lock", "build.rs", "Makefile", "README.md", "pyproject.toml", "src", "vendor",
           "python/sen12lite", "sql", "data", "packaging/build_wheel.py", "packaging/source_build.py"]
SKIPPED = {"__pycache__", ".pytest_cache"}

INSTALL_GDAL = ("GDAL's development files: apt install libgdal-dev (Debian, Ubuntu), dnf install gdal-devel "
                "(Fedora, RHEL with EPEL), brew install gdal (macOS), conda install -c conda-forge gdal; "
                "or set GDAL_INCLUDE_DIR and GDAL_LIB_DIR")
INSTALL_CLANG = "libclang, for bindgen: apt install libclang-dev (Debian, Ubuntu), dnf install clang-devel (Fedora, RHEL)"
# A failed build's output -> what is missing, for the errors a tool check cannot foresee.
KNOWN_FAILURES = [
    (re.compile(r"libclang|clang-sys"), INSTALL_CLANG),
    (re.compile(r"gdal\.pc|GDAL_LIB_DIR|cannot find -lgdal"), INSTALL_GDAL),
]


class MissingTool(SystemExit):
    """The build cannot start or failed for want of something the system lacks; the message says what
    to install (SystemExit: pip shows the text, not a traceback)."""

    def __init__(self, what: str):
        super().__init__(f"sen12lite: building from source needs {what}")


def minimum_rust() -> str:
    return wheels.cargo_field("rust-version")


def numbers(text: str) -> tuple:
    return tuple(int(n) for n in text.split("."))


def check_rust(cargo: str) -> None:
    """cargo on PATH (or $CARGO), at least the crate's rust-version."""
    if shutil.which(cargo) is None:
        raise MissingTool(f"Rust's cargo {minimum_rust()} or newer, not found as `{cargo}`: install it with rustup "
                          "(https://rustup.rs), or set CARGO to its path")
    found = subprocess.run([cargo, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    if numbers(found.split("-")[0]) < numbers(minimum_rust()):
        raise MissingTool(f"Rust {minimum_rust()} or newer, found cargo {found}: run `rustup update`")


def check_gdal() -> None:
    """GDAL as gdal-sys finds it: $GDAL_INCLUDE_DIR and $GDAL_LIB_DIR, or pkg-config's gdal."""
    if os.environ.get("GDAL_INCLUDE_DIR") and os.environ.get("GDAL_LIB_DIR"):
        return
    if shutil.which("pkg-config") is None:
        raise MissingTool("pkg-config, to find GDAL: apt install pkg-config (Debian, Ubuntu), dnf install pkgconf")
    if subprocess.run(["pkg-config", "--exists", "gdal"]).returncode != 0:
        raise MissingTool(f"{INSTALL_GDAL} (pkg-config knows no gdal)")


def check_tools(cargo: str) -> None:
    """Everything the build runs, before it runs: a missing piece is named before minutes of compiling."""
    for tool, package in (("make", "make"), (os.environ.get("CC", "cc"), "a C compiler (gcc or clang)")):
        if shutil.which(tool) is None:
            raise MissingTool(f"{package}, not found as `{tool}`: apt install build-essential (Debian, Ubuntu), "
                              "dnf install gcc make (Fedora, RHEL)")
    check_rust(cargo)
    check_gdal()


def run_make(cargo: str) -> None:
    """The Makefile's ext and build recipes without their apt step (ext first: bindgen, the one
    tool no check can find, fails in its first seconds); the output goes to pip's log, and a
    failure's cause, where it is a known one, is named."""
    command = ["make", "--no-print-directory", "NO_APT=1", f"CARGO={cargo}", "ext", "build"]
    build = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    for line in build.stdout:
        sys.stderr.write(line)
        output.append(line)
    if build.wait() != 0:
        text = "".join(output)
        for pattern, missing in KNOWN_FAILURES:
            if pattern.search(text):
                raise MissingTool(missing)
        raise SystemExit(f"sen12lite: `{' '.join(command)}` failed (exit {build.returncode}); its output is above")


def platform_tag() -> str:
    """The tag of a wheel for this machine only: it links this system's libraries."""
    return "py3-none-" + re.sub(r"[-.]", "_", sysconfig.get_platform())


# PEP 517 hooks.

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    """The dist-info pip reads to resolve the dependencies before anything is compiled."""
    dist_info = Path(metadata_directory) / f"sen12lite-{wheels.version()}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    for name, text in wheels.metadata(wheels.version(), platform_tag()).items():
        (dist_info / name).write_text(text)
    return dist_info.name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    cargo = os.environ.get("CARGO", "cargo")
    check_tools(cargo)
    run_make(cargo)
    name = f"sen12lite-{wheels.version()}-{platform_tag()}.whl"
    wheels.write_wheel(Path(wheel_directory) / name, wheels.version(), wheels.package_files(proj_db=False),
                       platform_tag())
    return name


def source_files():
    """The files of SOURCES, in a stable order."""
    for entry in SOURCES:
        path = ROOT / entry
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        yield from (p for p in found if not SKIPPED & set(p.relative_to(ROOT).parts))


def build_sdist(sdist_directory, config_settings=None):
    base = f"sen12lite-{wheels.version()}"
    pkg_info = wheels.metadata(wheels.version(), platform_tag())["METADATA"].encode()
    path = Path(sdist_directory) / f"{base}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size, info.mode, info.mtime = len(pkg_info), 0o644, 0
        sdist.addfile(info, io.BytesIO(pkg_info))
        for file in source_files():
            sdist.add(file, f"{base}/{file.relative_to(ROOT)}", recursive=False, filter=reproducible)
    return path.name


def reproducible(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """The same sources make the same archive: no owner, no time."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


if __name__ == "__main__":
    print(Path(sys.argv[1]) / build_sdist(sys.argv[1]))
