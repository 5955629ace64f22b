"""Each runnable file in examples/ runs with the command written at its top, after `make demo`
(here a demo in a temporary folder stands for demo-data/): train_loader.py with the wheel's Python
(pyenv's, whose sqlite3 cannot load extensions), pick_pairs.rs through cargo; the notebook
tour.ipynb in a Jupyter kernel of that Python. The Datasette recipe,
a server, runs in test_host_safety.py."""
import json
import re
import shlex
import subprocess

import pytest

from conftest import ROOT, run

EXAMPLES = {"train_loader.py": "python", "pick_pairs.rs": "cargo"}


def command_at_top(name):
    """The indented command line of the file's opening comment that works on demo-data/."""
    head = (ROOT / "examples" / name).read_text()[:1500]
    return re.search(r"^(?://!)?\s+((?:python|cargo) .*demo-data/.*)$", head, re.M).group(1)


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "demo-data"
    run("demo", "--dir", folder, "--scenes", "4", "--size", "300")
    return folder


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_runs_with_the_command_at_its_top(name, demo_data, wheel_hosts):
    command = shlex.split(command_at_top(name).replace("demo-data/", f"{demo_data}/"))
    assert command[0] == EXAMPLES[name]
    if command[0] == "python":
        command[0] = str(wheel_hosts / "bin" / "python")
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    if name == "train_loader.py":
        assert re.fullmatch(r"([1-9]\d*) patches in [\d.]+ s: [\d.]+ patches/s over 2 epochs of [1-9]\d*\n", out.stdout), out.stdout
    else:
        assert out.stdout.splitlines()[0].split() == ["name", "season", "dt_h", "cloud", "cropland"], out.stdout
        assert len(out.stdout.splitlines()) >= 3 and "Report" not in out.stderr, out.stdout + out.stderr


RUN_NOTEBOOK = r"""
import json, sys
import nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
notebook.cells[1].source = notebook.cells[1].source.replace('"demo-data/catalog.db"', repr(sys.argv[2]))
NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
print(json.dumps({
    "errors": [o.get("ename") for o in outputs if o.output_type == "error"],
    "images": sum("image/png" in o.get("data", {}) for o in outputs),
    "text": "".join(o.get("text", "") for o in outputs if o.output_type == "stream"),
}))
"""


def test_the_notebook_runs_in_a_jupyter_kernel_and_shows_its_pictures(demo_data, wheel_hosts):
    """examples/tour.ipynb executed by nbclient in a kernel of the wheel's Python, on the demo."""
    result = subprocess.run([str(wheel_hosts / "bin" / "python"), "-c", RUN_NOTEBOOK, str(ROOT / "examples" / "tour.ipynb"),
                             str(demo_data / "catalog.db"), str(ROOT)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["errors"] == [] and seen["images"] == 3, seen
    assert re.search(r"[1-9]\d* clean patches", seen["text"]), seen
    assert re.search(r"[1-9]\d* samples; float32 \(\d+, 4, 256, 256\) \(\d+, 256, 256\)", seen["text"]), seen
