"""The release wheel (`make wheels`, which names it in S12_WHEEL and also runs test_wheel.py, the
client tests and the extension's and command's tests on it): its GDAL is 3.12, built by
packaging/build_gdal.py, in one library of its own beside the extension's implementation, which
exports GDAL's API and nothing of the libraries inside it; auditwheel adds no library, and the wheel
stays under 20 MB. The oracles are the wheel's own listing, `nm` and the stock sqlite3 shell."""
import os
import subprocess
import zipfile

import pytest

from conftest import built_wheel
from test_wheel import SYSTEM_LIBRARIES

MAX_WHEEL_BYTES = 20_000_000
GDAL_API = ("GDAL", "OGR", "OSR", "OCT", "CPL", "VSI", "CSL")


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    """The release wheel, unzipped as pip lays it out."""
    if not os.environ.get("S12_WHEEL"):
        pytest.skip("S12_WHEEL names no release wheel: run `make wheels`")
    folder = tmp_path_factory.mktemp("release")
    with zipfile.ZipFile(built_wheel()) as wheel:
        wheel.extractall(folder)
    for name in ("sen12lite/bin/sen12lite", "sen12lite/sen12lite.so"):
        (folder / name).chmod(0o755)
    return folder


def exported(library):
    lines = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True, check=True)
    return {line.split()[-1] for line in lines.stdout.splitlines()}


def test_the_release_wheel_is_at_most_20_mb(unpacked):
    assert built_wheel().stat().st_size <= MAX_WHEEL_BYTES, built_wheel().stat().st_size


def test_its_libraries_are_the_extension_and_its_own_gdal(unpacked):
    libraries = sorted(str(p.relative_to(unpacked)) for p in unpacked.rglob("*.so*"))
    assert libraries == ["sen12lite/sen12lite.libs/libsen12lite_gdal.so", "sen12lite/sen12lite.libs/sen12lite_impl.so",
                         "sen12lite/sen12lite.so"], libraries


def test_what_it_runs_needs_nothing_of_the_system_but_the_c_and_cpp_runtimes(unpacked):
    for program in ("sen12lite/bin/sen12lite", "sen12lite/sen12lite.libs/sen12lite_impl.so"):
        lines = subprocess.run(["ldd", unpacked / program], capture_output=True, text=True, check=True).stdout
        resolved = {line.split()[0]: line.split()[2] for line in lines.splitlines() if "=>" in line}
        outside = {name: path for name, path in resolved.items()
                   if not path.startswith(str(unpacked)) and not name.startswith(SYSTEM_LIBRARIES)}
        assert outside == {} and "libsen12lite_gdal.so" in resolved, (program, resolved)


def test_its_gdal_exports_gdals_api_and_nothing_of_what_is_linked_into_it(unpacked):
    symbols = exported(unpacked / "sen12lite/sen12lite.libs/libsen12lite_gdal.so")
    assert "GDALOpenEx" in symbols and "OSRImportFromEPSG" in symbols
    assert {s for s in symbols if not s.startswith(GDAL_API)} == set()


def test_the_extension_exports_its_entry_points_only(unpacked):
    impl = unpacked / "sen12lite/sen12lite.libs/sen12lite_impl.so"
    assert exported(impl) == {"sqlite3_extension_init", "sqlite3_senlite_init"}


def test_the_stock_shell_loads_it_and_reads_with_gdal_3_12(unpacked, tp_db):
    sql = "SELECT s12_debug(); SELECT length(s12_window(390, 's2', 'B4', 0, 0, 8, 8));"
    out = subprocess.run(["/usr/bin/sqlite3", tp_db, f".load {unpacked / 'sen12lite/sen12lite.so'}", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "GDAL 3.12.1" in out.stdout and out.stdout.splitlines()[-1] == str(8 * 8 * 2 + 128), out.stdout


def test_its_command_runs_with_gdal_3_12(unpacked, tp_db):
    out = subprocess.run([unpacked / "sen12lite/bin/sen12lite", "sql", tp_db, "SELECT s12_debug()"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "GDAL 3.12.1" in out.stdout, out.stderr
