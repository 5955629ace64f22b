"""Each runnable file in examples/ runs with the command written at its top, after `make demo`
(here a demo in a temporary folder stands for demo-data/): train_loader.py with the wheel's Python
(pyenv's, whose sqlite3 cannot load extensions), pick_pairs.rs through cargo. The Datasette recipe,
a server, runs in test_host_safety.py."""
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
