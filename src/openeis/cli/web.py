"""`openeis serve` (the web application) and `openeis users` (its local accounts)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.application import governance as actions
from openeis.application.errors import Invalid
from openeis.application.session import prepare_store, vault_key_path
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, KeyFileOption, StoreOption, VaultKeyFileOption,
                                command, console, session, settings)
from openeis.governance.roles import Role


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(help="Local accounts for the web application.", no_args_is_help=True)
    command(users_app, "add")(users_add)
    command(users_app, "list")(users_list)
    command(users_app, "disable")(users_disable)
    command(users_app, "enable")(users_enable)
    command(users_app, "password")(users_password)
    command(users_app, "token")(users_token)
    app.add_typer(users_app, name="users")
    command(app)(serve)


def _password_from_stdin() -> str:
    """The password on standard input: typed at a hidden prompt, or piped by a script."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise Invalid("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def users_add(
    name: Annotated[str, typer.Argument(help="User name (sign-in name).")],
    role: Annotated[Role, typer.Option("--role", help="administrator, analyst, reviewer, auditor or officer.")],
    scope: Annotated[Optional[list[str]], typer.Option("--scope", help="Unit a reviewer covers (repeat for several).")] = None,
    officer: Annotated[Optional[str], typer.Option("--officer", help="Officer account: their own pseudonym.")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Create an account; the password is read from standard input (never an argument, which
    would land in the shell history and the process list)."""
    with session(store, key_file, config) as caller:
        password = _password_from_stdin()
        user = actions.add_user(caller, name, role, password, scope or [], officer)
    scope_text = f", scope {', '.join(sorted(user.scope_units))}" if user.scope_units else ""
    console.print(f"user {user.name} added ({user.role.value}{scope_text})")


def users_list(
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """The accounts: name, role, scope, whether disabled."""
    with session(store, key_file, config) as caller:
        found = actions.list_users(caller)
    table = RichTable("name", "role", "scope", "officer", "disabled")
    for user in found:
        table.add_row(user.name, user.role.value, ", ".join(sorted(user.scope_units)), user.officer or "",
                      "yes" if user.disabled else "")
    console.print(table)


def _set_disabled(name: str, disabled: bool, store: str, key_file, config) -> None:
    with session(store, key_file, config) as caller:
        actions.set_disabled(caller, name, disabled)
    console.print(f"user {name} {'disabled (sessions and tokens ended)' if disabled else 'enabled'}")


def users_disable(name: Annotated[str, typer.Argument()], store: StoreOption = DEFAULT_STORE,
                  key_file: KeyFileOption = None, config: ConfigOption = None) -> None:
    """Disable an account: its sessions and API tokens stop working at once."""
    _set_disabled(name, True, store, key_file, config)


def users_enable(name: Annotated[str, typer.Argument()], store: StoreOption = DEFAULT_STORE,
                 key_file: KeyFileOption = None, config: ConfigOption = None) -> None:
    _set_disabled(name, False, store, key_file, config)


def users_password(name: Annotated[str, typer.Argument()], store: StoreOption = DEFAULT_STORE,
                   key_file: KeyFileOption = None, config: ConfigOption = None) -> None:
    """Set a new password (read from standard input); signs the user out everywhere."""
    with session(store, key_file, config) as caller:
        password = _password_from_stdin()
        actions.set_password(caller, name, password)
    console.print(f"password of {name} changed")


def users_token(
    name: Annotated[str, typer.Argument(help="The account the token acts as.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option("--days", help="Valid for this many days (0: no expiry).")] = 90,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Create an API token (printed once, on standard output; only its hash is kept)."""
    with session(store, key_file, config) as caller:
        token = actions.create_token(caller, name, label, days or None)
    print(token)


def serve(
    store: StoreOption = DEFAULT_STORE,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies/--no-secure-cookies",
                                                 help="Mark cookies Secure (behind HTTPS).")] = False,
    key_file: KeyFileOption = None,
    vault_key_file: VaultKeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Start the web application (review queue, officer profiles, models, audits, access log,
    transparency) and its REST API under /api. A DuckDB store serves one user at a time and
    is held by the server while it runs; use PostgreSQL for many users."""
    import uvicorn

    from openeis.web.app import create_app

    loaded = settings(config)
    key, anchor = prepare_store(store, key_file, loaded)  # the key checked, the store migrated
    console.print(f"OpenEIS on http://{host}:{port}/ (store {store}); Ctrl-C stops it", markup=False)
    vault = vault_key_path(store, vault_key_file, loaded)  # read only when someone reveals
    uvicorn.run(create_app(store, key, loaded, secure_cookies, vault, anchor=anchor), host=host, port=port,
                log_level="warning", access_log=False)
