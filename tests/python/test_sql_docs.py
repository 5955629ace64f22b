"""docs/sql.md: every registered s12_ name has an entry, and every example prints what the doc says."""
import re
import subprocess

from conftest import ROOT
from conftest import EXT

DOC = (ROOT / "docs" / "sql.md").read_text()


def examples(kind="output"):
    return re.findall(rf"```sql\n([^`]*)```\n```{kind}\n([^`]*)```", DOC)


def entries():
    """name -> text of each `## s12_...` entry."""
    return dict(re.findall(r"^## (s12_\w+)\n(.*?)(?=^## |\Z)", DOC, re.M | re.S))


def shell(db, sql):
    return subprocess.run(["/usr/bin/sqlite3", str(db), f".load {EXT}", sql], capture_output=True, text=True,
                          check=True).stdout


def test_every_registered_function_has_an_entry_and_every_entry_a_function(tp_db):
    out = shell(tp_db, "SELECT name FROM pragma_function_list WHERE name LIKE 's12_%' "
                       "UNION SELECT name FROM pragma_module_list WHERE name LIKE 's12_%'").split()
    assert len(out) == 22
    assert set(out) == set(re.findall(r"^## (s12_\w+)", DOC, re.M))


def test_the_loaded_extension_registers_exactly_its_table_of_functions(tp_db):
    """As sqlite-vec's test-loadable.py: what the .so registers equals the table it was built from
    (`FUNCTIONS`, which s12_debug() lists), in both directions."""
    listed = next(line for line in shell(tp_db, "SELECT s12_debug()").splitlines() if line.startswith("functions: "))
    entries = listed.removeprefix("functions: ").split()
    functions = sorted(e for e in entries if not e.endswith("(table)"))
    tables = sorted(e.removesuffix("(table)") for e in entries if e.endswith("(table)"))
    loaded = shell(tp_db, "SELECT name || '/' || narg || iif(type = 'a', '(aggregate)', '') FROM pragma_function_list "
                          "WHERE name LIKE 's12_%' ORDER BY 1").split()
    modules = shell(tp_db, "SELECT name FROM pragma_module_list WHERE name LIKE 's12_%' ORDER BY 1").split()
    assert loaded == functions and modules == tables, (loaded, modules, entries)


def test_every_example_prints_its_documented_output(tp_db):
    pairs = examples()
    assert len(pairs) >= 16
    for sql, expected in pairs:
        result = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {EXT}", sql.strip()], capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout == expected, (sql, result.stdout, result.stderr)


def test_every_entry_shows_a_call_that_works_and_one_that_fails():
    for name, text in entries().items():
        assert "```output" in text and "```error" in text, name


def test_every_error_example_fails_with_its_documented_message(tp_db):
    pairs = examples("error")
    assert len(pairs) == len(entries())
    for sql, expected in pairs:
        result = subprocess.run(["/usr/bin/sqlite3", str(tp_db), f".load {EXT}", sql.strip()], capture_output=True, text=True)
        # The shell says where the error happened ("Error: stepping, ", "Error: in prepare, ") first.
        message = re.sub(r"^Error: [^,]*, ", "", result.stderr.splitlines()[0] if result.stderr else "")
        assert result.returncode == 1 and message == expected.strip(), (sql, result.stderr)
