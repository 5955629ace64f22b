"""The short version of each soak of `make soak` (tests/python/soak.py, which has the full ones):
files that change while s12_window, s12_batch, s12_patches and the ingest read them give one
version's result or an SQL error naming the function, never a mix and never a crash, and the next
ingest catalogues the file as it ends up; a host that opens and closes connections and runs mixed
calls keeps its file descriptors; mutants of valid GeoTIFFs are catalogued or recorded by the ingest
and every pixel-reading call on them is a value or an error naming the function; the public Datasette recipe under 16 concurrent clients answers
or refuses, by name, every request, with no 5xx and no dropped connection."""
import shutil

import pytest

import soak
from conftest import WHEEL_HOSTS


def test_files_changing_during_reads_give_one_version_or_a_named_error(tp_tree, tmp_path):
    tree = tmp_path / "data"
    shutil.copytree(tp_tree, tree)
    db = tmp_path / "catalog.db"
    soak.subprocess.run([soak.BIN, "ingest", tree, "--db", db], check=True, capture_output=True)
    outcomes = soak.changing_files(tree, db, 8)  # asserts: no mixed result, no unnamed error, every version seen
    assert sum(outcomes.values()) > 100, outcomes


def test_a_long_running_host_keeps_its_file_descriptors(tp_db):
    fd_growth, rss_growth = soak.long_running_host(tp_db, 300, 3000)
    assert fd_growth <= 0 and rss_growth < 20, (fd_growth, rss_growth)


@pytest.mark.parametrize("budget_ms", [1000, 100])
def test_the_public_recipe_under_16_clients_answers_or_refuses_by_name(big_db, wheel_hosts, budget_ms):
    assert (WHEEL_HOSTS / "bin" / "datasette").exists()
    figures = soak.load_public_recipe(big_db, 16, 100, 300, budget_ms)
    assert not figures["failures"], figures["failures"][:3]
    assert all(status < 500 for status in figures["statuses"]), figures["statuses"]
    for text in figures["refusals"]:
        named = text.startswith("400: s12_") or "(sql_time_limit_ms)" in text or "(Datasette's sql_time_limit_ms)" in text
        assert text == "403: arbitrary SQL is not allowed" or named, text
        if "over the limit" in text:
            assert "(SEN12LITE_MAX_" in text, text


def test_lying_files_are_catalogued_or_recorded_and_every_call_on_them_is_a_value_or_a_named_error(tmp_path):
    """300 mutants of s1, s2 and lc files (bytes changed, cut, grown, tags set to extremes, IFD
    loops) under a 2 GB address-space cap: the ingest accounts for each, and 8 pixel-reading calls
    on each, through a catalog that believed the files, never kill the shell."""
    figures = soak.lying_files(tmp_path, 300)
    assert figures["catalogued"] + figures["recorded"] >= 300 and figures["calls"] == 300 * 8, figures
