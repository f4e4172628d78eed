"""`openeis serve` (the web application) and `openeis users` (its local accounts)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.cli import (ConfigOption, DEFAULT_STORE, KeyFileOption, Refused, StoreOption, _config, _open,
                         _read_key, app, cli_actor, command, console)
from openeis.governance import access_log
from openeis.governance.roles import Role

users_app = typer.Typer(help="Local accounts for the web application.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _password_from_stdin() -> str:
    """The password on standard input: typed at a hidden prompt, or piped by a script."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise Refused("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _change_account(store: str, key: bytes, change, records: dict, purpose: str):
    """Run `change(store)` and its access-log entry in one transaction; a refused change
    (AccountError) becomes the command's one-line error."""
    from openeis.governance.users import AccountError

    with _open(store) as opened:
        try:
            with opened.transaction():
                result = change(opened)
                access_log.append(opened, key, cli_actor(), "change", "users", records=records,
                                  purpose=purpose, own_transaction=False)
        except AccountError as error:
            raise Refused(str(error)) from None
    return result


@command(users_app, "add")
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
    from openeis.governance.users import add_user

    key = _read_key(store, key_file, _config(config))
    password = _password_from_stdin()
    user = _change_account(store, key, lambda opened: add_user(opened, name, role, password, scope or [], officer),
                           {"user": name, "role": role.value, "scope": sorted(scope or [])}, "add a user")
    scope_text = f", scope {', '.join(sorted(user.scope_units))}" if user.scope_units else ""
    console.print(f"user {user.name} added ({user.role.value}{scope_text})")


@command(users_app, "list")
def users_list(store: StoreOption = DEFAULT_STORE) -> None:
    """The accounts: name, role, scope, whether disabled."""
    from openeis.governance.users import list_users

    with _open(store) as opened:
        found = list_users(opened)
    table = RichTable("name", "role", "scope", "officer", "disabled")
    for user in found:
        table.add_row(user.name, user.role.value, ", ".join(sorted(user.scope_units)), user.officer or "",
                      "yes" if user.disabled else "")
    console.print(table)


def _set_disabled(name: str, disabled: bool, store: str, key_file, config) -> None:
    from openeis.governance.users import set_disabled

    key = _read_key(store, key_file, _config(config))
    _change_account(store, key, lambda opened: set_disabled(opened, name, disabled),
                    {"user": name, "disabled": disabled}, "disable a user" if disabled else "enable a user")
    console.print(f"user {name} {'disabled (sessions and tokens ended)' if disabled else 'enabled'}")


@command(users_app, "disable")
def users_disable(name: Annotated[str, typer.Argument()], store: StoreOption = DEFAULT_STORE,
                  key_file: KeyFileOption = None, config: ConfigOption = None) -> None:
    """Disable an account: its sessions and API tokens stop working at once."""
    _set_disabled(name, True, store, key_file, config)


@command(users_app, "enable")
def users_enable(name: Annotated[str, typer.Argument()], store: StoreOption = DEFAULT_STORE,
                 key_file: KeyFileOption = None, config: ConfigOption = None) -> None:
    _set_disabled(name, False, store, key_file, config)


@command(users_app, "password")
def users_password(name: Annotated[str, typer.Argument()], store: StoreOption = DEFAULT_STORE,
                   key_file: KeyFileOption = None, config: ConfigOption = None) -> None:
    """Set a new password (read from standard input); signs the user out everywhere."""
    from openeis.governance.users import set_password

    key = _read_key(store, key_file, _config(config))
    password = _password_from_stdin()
    _change_account(store, key, lambda opened: set_password(opened, name, password), {"user": name},
                    "set a password")
    console.print(f"password of {name} changed")


@command(users_app, "token")
def users_token(
    name: Annotated[str, typer.Argument(help="The account the token acts as.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option("--days", help="Valid for this many days (0: no expiry).")] = 90,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Create an API token (printed once, on standard output; only its hash is kept)."""
    from openeis.governance.users import get_user
    from openeis.web.auth import create_token

    key = _read_key(store, key_file, _config(config))
    with _open(store) as opened:
        user = get_user(opened, name)
        if user is None or user.disabled:
            raise Refused(f"no active user {name}")
        with opened.transaction():
            token = create_token(opened, user, label, days or None)
            access_log.append(opened, key, cli_actor(), "change", "users",
                              records={"user": name, "token_label": label}, purpose="create an API token",
                              own_transaction=False)
    print(token)


@command(app)
def serve(
    store: StoreOption = DEFAULT_STORE,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies/--no-secure-cookies",
                                                 help="Mark cookies Secure (behind HTTPS).")] = False,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Start the web application (review queue, officer profiles, models, audits, access log,
    transparency) and its REST API under /api. A DuckDB store serves one user at a time and
    is held by the server while it runs; use PostgreSQL for many users."""
    import uvicorn

    from openeis.web.app import create_app

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:  # migrate now, not on the first request
        opened.migrate()
    console.print(f"OpenEIS on http://{host}:{port}/ (store {store}); Ctrl-C stops it")
    uvicorn.run(create_app(store, key, settings, secure_cookies), host=host, port=port,
                log_level="warning", access_log=False)
