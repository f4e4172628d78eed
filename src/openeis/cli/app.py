"""The `openeis` command line: the root Typer app, with every command group registered on
it explicitly (no command module imports this one).

Every command takes --store (default ./openeis.duckdb, or OPENEIS_STORE) so several stores
can live side by side, and --config (default ./openeis.toml if present, or OPENEIS_CONFIG).
Commands are thin: they parse options, call the action in openeis.application as the caller
(cli_actor: OPENEIS_USER, OPENEIS_ROLE, OPENEIS_SCOPE, OPENEIS_OFFICER) and print its result.
Exit codes: 0 done, 1 refused (bad input, wrong key, not allowed...), 2 wrong usage.
"""

from __future__ import annotations

import typer

from openeis.cli import data, detect, governance, ingest, models, review, setup, web

app = typer.Typer(
    help="OpenEIS: an open early-intervention system. A flag is a prompt for human review, "
    "never a verdict.",
    no_args_is_help=True,
    add_completion=False,
    # A traceback must never print local variables: they hold the key and personal data.
    pretty_exceptions_show_locals=False,
)
for group in (setup, ingest, data, models, detect, review, governance, web):
    group.register(app)


def main() -> None:
    app()
