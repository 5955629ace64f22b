"""The release wheel (`make wheels`, which names it in S12_WHEEL and also runs test_wheel.py, the
client tests and the extension's and command's tests on it): its GDAL is 3.12, built by
packaging/build_gdal.py, in one library of its own beside the extension's implementation, which
exports GDAL's API and nothing of the libraries inside it; auditwheel adds no library, and the wheel
stays under 20 MB. The aarch64 wheel (S12_WHEEL_AARCH64) runs under qemu in an arm64 Debian
Python (`make arm64root`) and answers what the x86_64 wheel answers. The oracles are the wheel's own
listing, `nm`, the stock sqlite3 shell and the x86_64 wheel's answers."""
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, WINDOW, built_wheel, content_hash, remote, shell
from test_wheel import SYSTEM_LIBRARIES

MAX_WHEEL_BYTES = 20_000_000
GDAL_API = ("GDAL", "OGR", "OSR", "OCT", "CPL", "VSI", "CSL")
ARM64_ROOT = ROOT / "build/arm64-root"


def unzipped(wheel, folder):
    """`wheel` unzipped into `folder` as pip lays it out (zip keeps no modes: the command's)."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)
    (folder / "sen12lite/bin/sen12lite").chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    if not os.environ.get("S12_WHEEL"):
        pytest.skip("S12_WHEEL names no release wheel: run `make wheels`")
    return unzipped(built_wheel(), tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def aarch64_site(tmp_path_factory):
    """The aarch64 wheel and numpy's, unzipped into one folder for the arm64 Python's path."""
    if not os.environ.get("S12_WHEEL_AARCH64"):
        pytest.skip("S12_WHEEL_AARCH64 names no aarch64 wheel: run `make wheels`")
    if not (ARM64_ROOT / "usr/bin/python3.11").exists():
        pytest.skip("no arm64 Python in build/arm64-root: run `make arm64root`")
    site = unzipped(os.environ["S12_WHEEL_AARCH64"], tmp_path_factory.mktemp("aarch64"))
    for numpy in (ARM64_ROOT / "wheels").glob("numpy-*.whl"):
        zipfile.ZipFile(numpy).extractall(site)
    return site


def under_qemu(program, *args, env=None):
    """Runs an aarch64 `program` with qemu-user, its libraries from the arm64 root; its stdout."""
    out = subprocess.run(["qemu-aarch64-static", "-L", ARM64_ROOT, program, *map(str, args)], capture_output=True,
                         text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def exported(library):
    lines = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True, check=True)
    return {line.split()[-1] for line in lines.stdout.splitlines()}


@pytest.mark.parametrize("variable, machine, elf_machine", [("S12_WHEEL", "x86_64", "Advanced Micro Devices X86-64"),
                                                            ("S12_WHEEL_AARCH64", "aarch64", "AArch64")])
def test_each_wheel_is_manylinux_2_28_at_most_20_mb_and_needs_no_newer_glibc(variable, machine, elf_machine, tmp_path):
    """The tag's promise checked with binutils' readelf, not auditwheel: no program or library of
    the wheel asks for a glibc symbol version newer than 2.28, and each is built for its processor."""
    if not os.environ.get(variable):
        pytest.skip(f"{variable} names no release wheel: run `make wheels`")
    wheel = Path(os.environ[variable])
    assert wheel.name == f"sen12lite-0.1.0-py3-none-manylinux_2_28_{machine}.whl"
    assert wheel.stat().st_size <= MAX_WHEEL_BYTES, wheel.stat().st_size
    folder = unzipped(wheel, tmp_path)
    elves = [p for p in folder.rglob("*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF"]
    assert len(elves) == 4, elves  # the command, the entry library, the implementation, GDAL
    versions = set()
    for elf in elves:
        header = subprocess.run(["readelf", "-h", elf], capture_output=True, text=True, check=True).stdout
        assert elf_machine in header, (elf, header)
        symbols = subprocess.run(["readelf", "--dyn-syms", "-W", elf], capture_output=True, text=True, check=True).stdout
        versions |= {tuple(map(int, v)) for v in re.findall(r"@GLIBC_(\d+)\.(\d+)", symbols)}
    assert versions and max(versions) <= (2, 28), sorted(versions)[-3:]


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


def test_its_command_ingests_the_catalog_the_build_on_the_systems_gdal_does(unpacked, tp_tree, tmp_path):
    """GDAL 3.12 and PROJ 9.6 of the wheel against Debian's GDAL 3.6 and PROJ 9.1 (`make build`)."""
    catalogs = []
    for name, command in [("system", ROOT / "target/release/sen12lite"), ("wheel", unpacked / "sen12lite/bin/sen12lite")]:
        catalogs.append(tmp_path / f"{name}.db")
        subprocess.run([command, "ingest", tp_tree, "--db", catalogs[-1]], check=True, capture_output=True)
    assert content_hash(catalogs[0]) == content_hash(catalogs[1])


def test_the_aarch64_wheel_imports_connects_and_reads_what_the_x86_64_wheel_reads(unpacked, aarch64_site, tp_db):
    code = ("import sys, platform, sen12lite\n"
            "conn = sen12lite.connect(sys.argv[1])\n"
            "print(platform.machine(), sen12lite.connection_module().__name__)\n"
            f"print(conn.execute(\"SELECT hex({WINDOW})\", (390,)).fetchone()[0])")
    python = ARM64_ROOT / "usr/bin/python3.11"
    machine, window = under_qemu(python, "-c", code, tp_db, env={"PYTHONPATH": str(aarch64_site)}).splitlines()
    code, x86_64, err = shell(tp_db, f"SELECT hex({WINDOW.replace('?', '390')})", ext=unpacked / "sen12lite/sen12lite.so")
    assert code == 0, err
    # pysqlite3-binary has no aarch64 wheel: Debian's sqlite3 loads the extension there.
    assert machine == "aarch64 sqlite3"
    assert window == x86_64.strip() != ""


def test_the_aarch64_command_ingests_the_catalog_the_x86_64_build_does(aarch64_site, tp_db, tp_tree, tmp_path):
    db = tmp_path / "catalog.db"
    under_qemu(aarch64_site / "sen12lite/bin/sen12lite", "ingest", tp_tree, "--db", db)
    assert content_hash(db) == content_hash(tp_db)


def self_signed(folder, name, *extensions):
    """A self-signed certificate for `name` and its key, made by openssl in `folder`."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                    *extensions, "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def tls_server(tp_tree, tmp_path_factory):
    """The test tree over HTTPS on 127.0.0.1, with a self-signed certificate."""
    from servers import RangeServer
    cert, key = self_signed(tmp_path_factory.mktemp("tls"), "127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    with RangeServer(tp_tree, tls=(cert, key)) as running:
        running.certificate = cert
        yield running


def test_its_libcurl_reads_over_https_and_verifies_the_certificate(unpacked, tp_db, tls_server, tmp_path):
    """The wheel's static libcurl and OpenSSL: the read equals the local one when the
    certificate's CA is trusted (CURL_CA_BUNDLE), and is refused, naming the file, when it is not.
    (Debian's GDAL 3.6 of the development build asks the size of a file without CURL_CA_BUNDLE.)"""
    sql, ext = f"SELECT hex({WINDOW.replace('?', '390')})", unpacked / "sen12lite/sen12lite.so"
    code, local, err = shell(tp_db, sql, ext)
    assert code == 0 and local.strip(), err
    root = remote(tls_server)
    code, got, err = shell(tp_db, sql, ext, SEN12LITE_DATA_ROOT=root, SEN12LITE_ALLOW_REMOTE=root,
                           CURL_CA_BUNDLE=str(tls_server.certificate))
    assert code == 0 and got == local, err
    other, _ = self_signed(tmp_path, "other")
    code, got, err = shell(tp_db, sql, ext, SEN12LITE_DATA_ROOT=root, SEN12LITE_ALLOW_REMOTE=root, CURL_CA_BUNDLE=str(other))
    assert code != 0 and "s12_window" in err and "390_s2.tif" in err, (got, err)
