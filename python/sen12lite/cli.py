"""The `sen12lite` command that pip installs: the wheel's own binary, run in place of Python."""

import os
import sys
from pathlib import Path

BINARY = Path(__file__).resolve().parent / "bin" / "sen12lite"


def main() -> None:
    os.execv(BINARY, [str(BINARY), *sys.argv[1:]])
