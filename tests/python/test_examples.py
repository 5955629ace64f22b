"""Each runnable file in examples/ runs with the command written at its top, after `make demo`
(here a demo in a temporary folder stands for demo-data/): train_loader.py with the wheel's Python
(pyenv's, whose sqlite3 cannot load extensions), pick_pairs.rs through cargo; the notebook
quickstart.ipynb in a Jupyter kernel of that Python, its figures looked at. The Datasette recipe,
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
import io, json, sys, base64
import matplotlib.pyplot as plt
import nbformat
import numpy as np
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
notebook.cells[1].source = notebook.cells[1].source.replace('"demo-data/catalog.db"', repr(sys.argv[2]))
NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
code = [c for c in notebook.cells if c.cell_type == "code"]
outputs = [o for c in code for o in c.outputs]
figures = [plt.imread(io.BytesIO(base64.b64decode(o["data"]["image/png"])), format="png")[..., :3]
           for o in outputs if "image/png" in o.get("data", {})]
share = lambda figure, colour: float(np.mean(np.all(np.abs(figure - np.array(colour) / 255) < 0.02, axis=-1)))
print(json.dumps({
    "ran": [c.execution_count is not None for c in code],
    "errors": [o.get("ename") for o in outputs if o.output_type == "error"],
    "figures": [list(f.shape[:2]) for f in figures],
    "colours": [len(np.unique((f * 255).astype(np.uint8).reshape(-1, 3), axis=0)) for f in figures],
    "map": {name: share(figures[0], colour) for name, colour in
            {"land": (0xec, 0xe8, 0xdc), "sea": (255, 255, 255), "spring": (0x4d, 0xaf, 0x4a), "winter": (0x37, 0x7e, 0xb8)}.items()},
    "text": "".join(o.get("text", "") for o in outputs if o.output_type == "stream"),
}))
"""


def test_the_quickstart_notebook_runs_in_a_jupyter_kernel_and_draws_its_figures(demo_data, wheel_hosts):
    """examples/quickstart.ipynb executed by nbclient in a kernel of the wheel's Python, on the demo:
    every cell ran, and its six figures (map, histograms, quicklooks, time series, gallery, batch)
    are there and are pictures, the map with land, sea and footprints in their colours."""
    result = subprocess.run([str(wheel_hosts / "bin" / "python"), "-c", RUN_NOTEBOOK, str(ROOT / "examples" / "quickstart.ipynb"),
                             str(demo_data / "catalog.db"), str(ROOT)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert all(seen["ran"]) and seen["errors"] == [], seen
    assert len(seen["figures"]) == 6 and all(h >= 300 and w >= 300 for h, w in seen["figures"]), seen
    assert all(colours > 50 for colours in seen["colours"]), seen
    assert 0.1 < seen["map"]["land"] < 0.4 and 0.5 < seen["map"]["sea"] < 0.9, seen["map"]
    assert seen["map"]["spring"] > 0 and seen["map"]["winter"] > 0, seen["map"]
    assert re.search(r"\('sen12tp', 2319, [1-9]\d*\)", seen["text"]), seen["text"]
    assert re.search(r"[1-9]\d* clean patches", seen["text"]), seen["text"]
    assert re.search(r"[1-9]\d* samples; float32 \(\d+, 4, 256, 256\) \(\d+, 256, 256\)", seen["text"]), seen["text"]
