"""docs/sql.md: every registered s12_ name has an entry, and every example prints what the doc says."""
import re
import subprocess

from conftest import ROOT
from conftest import EXT

DOC = (ROOT / "docs" / "sql.md").read_text()


def examples():
    return re.findall(r"```sql\n(.*?)```\n```output\n(.*?)```", DOC, re.S)


def test_every_registered_function_has_an_entry(tp_db):
    out = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {EXT}",
                          "SELECT name FROM pragma_function_list WHERE name LIKE 's12_%' UNION SELECT name FROM pragma_module_list WHERE name LIKE 's12_%'"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(out) >= 15
    documented = set(re.findall(r"^## (s12_\w+)", DOC, re.M))
    assert set(out) <= documented, set(out) - documented


def test_every_example_prints_its_documented_output(tp_db):
    pairs = examples()
    assert len(pairs) >= 16
    for sql, expected in pairs:
        result = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {EXT}", sql.strip()], capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout == expected, (sql, result.stdout, result.stderr)
