"""`python -m sen12lite ...`: the command, for a venv whose bin/ is not on PATH."""

from sen12lite.cli import main

main()
