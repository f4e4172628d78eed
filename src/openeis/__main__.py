"""`python -m openeis`: the same as the `openeis` command."""

from openeis.cli import main

main()
