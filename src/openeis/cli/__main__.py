"""`python -m openeis.cli`, as the tests run the real command in a subprocess."""

from openeis.cli.app import main

main()
