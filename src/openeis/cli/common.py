"""What every command shares: the options, the consoles, who is calling, opening a session,
and turning a refusal into a one-line message and exit code 1.

Exit codes: 0 done, 1 refused (bad input, wrong key, not allowed...), 2 wrong usage.
"""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from openeis.application.errors import AccessDenied, Refused
from openeis.application.session import Session, load_settings, open_session
from openeis.config import OpenEISConfig
from openeis.governance.roles import Actor, Role

# Markup and emoji codes off everywhere: file names, column names and values come from the
# data, and "[/bold]" in a header must print as itself, not crash the report of a committed
# batch (issue 21). Styles are given as Text objects where wanted.
console = Console(markup=False, emoji=False)
errors = Console(stderr=True, markup=False, emoji=False)

StoreOption = Annotated[
    str,
    typer.Option("--store", envvar="OPENEIS_STORE", help="Store: a DuckDB file path or a postgresql:// URL (spark:// warehouses: features from Python, docs/scale.md)."),
]
ConfigOption = Annotated[
    Optional[str],
    typer.Option("--config", envvar="OPENEIS_CONFIG", help="Config file (TOML or YAML)."),
]
KeyFileOption = Annotated[
    Optional[Path],
    typer.Option("--key-file", envvar="OPENEIS_KEY_FILE", help="Pseudonymisation key file."),
]
VaultKeyFileOption = Annotated[
    Optional[Path],
    typer.Option("--vault-key-file", envvar="OPENEIS_VAULT_KEY_FILE",
                 help="Identity vault key file (default: beside the store, .vault.key; see [privacy])."),
]
EngineOption = Annotated[Optional[str], typer.Option(
    "--engine", envvar="OPENEIS_ENGINE",
    help="Compute on another engine: spark://local[2]?warehouse=DIR or spark://HOST:PORT?warehouse=DIR "
         "(a warehouse written by `openeis warehouse`). The access log stays in --store.")]
LabelOption = Annotated[Optional[str], typer.Option("--label", help="Label to predict (default from config).")]
DEFAULT_STORE = "openeis.duckdb"


def command(typer_app: typer.Typer, name: str | None = None, help: str | None = None):
    """Register a command whose refusals become a one-line message and exit code 1."""

    def register(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except AccessDenied as error:
                refuse(f"access denied: {error}")
            except Refused as error:
                refuse(str(error))

        return typer_app.command(name, help=help)(run)

    return register


def refuse(message: str):
    errors.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    raise typer.Exit(1)


def cli_actor() -> Actor:
    """Who is at the command line. Shell access to the store and its key is administrator
    access in effect, so the CLI acts as an administrator named by OPENEIS_USER or the login,
    unless OPENEIS_ROLE names a narrower role (e.g. auditor, for `audit --rows`), which every
    command then holds to. A reviewer's units are OPENEIS_SCOPE (comma-separated); an
    officer's own pseudonym is OPENEIS_OFFICER."""
    name = os.environ.get("OPENEIS_USER") or getpass.getuser()
    role_name = os.environ.get("OPENEIS_ROLE", Role.ADMINISTRATOR.value)
    try:
        role = Role(role_name)
    except ValueError:
        raise Refused(f"OPENEIS_ROLE={role_name!r}: one of {', '.join(r.value for r in Role)}") from None
    scope = frozenset(unit.strip() for unit in os.environ.get("OPENEIS_SCOPE", "").split(",") if unit.strip())
    officer = os.environ.get("OPENEIS_OFFICER") or None
    return Actor(f"cli:{name}", role, scope, officer)


def settings(config: str | None) -> OpenEISConfig:
    return load_settings(config)


@contextmanager
def session(store: str, key_file: Path | None, config: str | None | OpenEISConfig,
            key_optional: bool = False, vault_key_file: Path | None = None) -> Iterator[Session]:
    """The caller at work on the store: the one way a command opens it."""
    loaded = config if isinstance(config, OpenEISConfig) else settings(config)
    actor = cli_actor()
    with open_session(store, actor, loaded, key_file, key_optional=key_optional,
                      vault_key_file=vault_key_file) as opened:
        yield opened


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    task = bar.add_task("starting", total=1)

    def update(step: str, done: int, total: int) -> None:
        bar.update(task, description=step, completed=done, total=max(total, 1))

    with bar:
        yield update


def write_json(path: Path, payload: Any) -> None:
    import json

    from openeis.json_values import json_default

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=json_default) + "\n")
