"""`sen12lite demo` (`make demo`), as a new user first sees it: a summary a person reads, every
example query with rows, values rounded, an NDVI read from pixels that equals the catalog's, and a
quicklook PNG at the path it prints."""
import re
import subprocess
from pathlib import Path

import pytest
from osgeo import gdal

from conftest import ROOT, run

EXAMPLE_COUNT = 8


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    out = run("demo", "--dir", folder, "--scenes", "6", "--size", "200")
    return folder, out.stdout, out.stderr


def sections(stdout):
    """{title: lines of its table} for each `-- NAME` section the demo prints."""
    parts = re.split(r"^-- (\S+\.sql)$", stdout, flags=re.M)
    return {name: [l for l in body.splitlines() if l and not l.startswith("--")] for name, body in zip(parts[1::2], parts[2::2])}


def test_the_demo_opens_with_a_summary_a_person_reads(demo):
    _, stdout, stderr = demo
    first = stdout.splitlines()[0]
    assert re.fullmatch(r"demo: catalogued 2319 scenes \(\d+ with files on disk\): \d+ files found, \d+ read, 0 unchanged "
                        r"since the last run; ingest_errors: 1; \d+\.\d s", first), first
    assert "IngestReport" not in stdout + stderr and "Some(" not in stdout + stderr


def test_every_example_query_returns_rows_on_the_demo(demo):
    tables = sections(demo[1])
    assert len(tables) == EXAMPLE_COUNT, list(tables)
    for name, lines in tables.items():
        assert len(lines) >= 3, (name, lines)  # header, rule, at least one row


def test_the_demo_prints_rounded_values(demo):
    numbers = re.findall(r"-?\d+\.\d+", demo[1])
    assert numbers and all(len(n.split(".")[1]) <= 6 for n in numbers), [n for n in numbers if len(n.split(".")[1]) > 6]


def test_the_demo_shows_an_ndvi_from_pixels_and_writes_a_quicklook(demo):
    folder, stdout, _ = demo
    ndvi = re.search(r"ndvi_from_pixels\s+ndvi_in_catalog\n-+\s+-+\n(\S+)\s+(\S+)", stdout)
    assert ndvi and ndvi.group(1) == ndvi.group(2) and 0 < float(ndvi.group(1)) < 1, stdout
    path = Path(re.search(r"^quicklook: (\S+\.png) ", stdout, flags=re.M).group(1))
    assert path.parent == folder and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    png = gdal.Open(str(path))
    assert (png.RasterXSize, png.RasterYSize, png.RasterCount) == (200, 200, 4)


def test_a_second_demo_reuses_the_data_and_reads_only_the_damaged_file_again(demo):
    folder, _, _ = demo
    again = run("demo", "--dir", folder, "--scenes", "6", "--size", "200").stdout.splitlines()[0]
    assert ": 36 files found, 1 read, 35 unchanged since the last run; ingest_errors: 1;" in again, again


def test_the_readme_tour_runs_in_the_sqlite3_shell_on_the_demo(tmp_path_factory):
    """README.md's tour of the SQL, as written, on the demo `make demo` makes (its default size:
    the tour's scenes are the demo's), each statement with rows."""
    folder = tmp_path_factory.mktemp("tour")
    run("demo", "--dir", folder / "demo-data")
    (folder / "dist").symlink_to(ROOT / "dist")
    tour = re.search(r"## A tour of the SQL\n\n```sql\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    statements = [s for s in tour.split(";") if s.strip() and not s.strip().startswith(".load")]
    out = subprocess.run(["/usr/bin/sqlite3", "-bail", "demo-data/catalog.db"], input=tour.encode(), cwd=folder,
                         capture_output=True, timeout=300)
    assert out.returncode == 0 and not out.stderr, out.stderr
    assert (folder / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for statement in statements[:-1]:  # each query alone has rows; the last writes the quicklook
        alone = subprocess.run(["/usr/bin/sqlite3", "demo-data/catalog.db", ".load ./dist/sen12lite", statement],
                               cwd=folder, capture_output=True, timeout=300)
        assert alone.returncode == 0 and alone.stdout.strip(), (statement, alone.stderr)
