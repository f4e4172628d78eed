"""Local accounts for the web application: a name, a role, a scope, an argon2id hash.

Accounts are created at the command line (`openeis users add`), where whoever runs the
command already holds the store and its key. The password never reaches the store: only its
argon2id hash (argon2-cffi's defaults, which follow RFC 9106's recommendations).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from openeis.governance.roles import Actor, Role
from openeis.store import Store

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verifying against this when the name is unknown keeps a sign-in with an unknown name as
# slow as one with a wrong password, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("openeis-no-such-user")


class AccountError(ValueError):
    """A refused account change, with the reason."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    scope_units: frozenset[str]
    officer: str | None
    disabled: bool

    def actor(self) -> Actor:
        return Actor(self.name, self.role, self.scope_units, self.officer)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _user(row) -> User:
    return User(row[0], Role(row[1]), frozenset(json.loads(row[2])), row[3], bool(row[4]))


_COLUMNS = "name, role, scope_units, officer, disabled"


def check_new_account(name: str, role: Role, password: str, scope_units: list[str],
                      officer: str | None) -> None:
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AccountError(f"user name {name!r}: letters, digits, '-', '_' and '.' only")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if role in (Role.REVIEWER, Role.WELFARE) and not scope_units:
        raise AccountError(f"a {role.value} account needs a scope: --scope UNIT (repeat for several units)")
    if role is Role.OFFICER and not officer:
        raise AccountError("an officer account needs --officer PSEUDONYM (their own records only)")
    if role not in (Role.REVIEWER, Role.WELFARE) and scope_units:
        raise AccountError(f"--scope limits reviewers and welfare accounts; a {role.value} is not limited by unit")


def add_user(store: Store, name: str, role: Role, password: str, scope_units: Sequence[str] = (),
             officer: str | None = None) -> User:
    units = sorted(set(scope_units))
    check_new_account(name, role, password, units, officer)
    if get_user(store, name) is not None:
        raise AccountError(f"user {name} exists already")
    store.execute(
        "INSERT INTO users (name, role, scope_units, officer, password_hash, created_at, disabled) "
        "VALUES (?, ?, ?, ?, ?, ?, false)",
        [name, role.value, json.dumps(units), officer, _hasher.hash(password), _now()],
    )
    return User(name, role, frozenset(units), officer, False)


def get_user(store: Store, name: str) -> User | None:
    rows = store.query(f"SELECT {_COLUMNS} FROM users WHERE name = ?", [name])
    return _user(rows[0]) if rows else None


def list_users(store: Store) -> list[User]:
    return [_user(r) for r in store.query(f"SELECT {_COLUMNS} FROM users ORDER BY name")]


def set_disabled(store: Store, name: str, disabled: bool) -> None:
    if get_user(store, name) is None:
        raise AccountError(f"no user {name}")
    store.execute("UPDATE users SET disabled = ? WHERE name = ?", [disabled, name])
    if disabled:  # signed-in sessions and tokens stop working at once
        store.execute("DELETE FROM web_sessions WHERE user_name = ?", [name])
        store.execute("DELETE FROM api_tokens WHERE user_name = ?", [name])


def set_password(store: Store, name: str, password: str) -> None:
    if get_user(store, name) is None:
        raise AccountError(f"no user {name}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    store.execute("UPDATE users SET password_hash = ? WHERE name = ?", [_hasher.hash(password), name])
    store.execute("DELETE FROM web_sessions WHERE user_name = ?", [name])


def check_password(store: Store, name: str, password: str) -> User | None:
    """The user if the name and password match an enabled account, else None."""
    return check_sign_in(store, name, password)[0]


def check_sign_in(store: Store, name: str, password: str) -> tuple[User | None, str]:
    """(the user, "") if the name and password match an enabled account; else (None, why):
    "no such account", "wrong password" or "account disabled", for the access log only (the
    person signing in is told none of them apart)."""
    rows = store.query(f"SELECT {_COLUMNS}, password_hash FROM users WHERE name = ?", [name])
    stored = rows[0][5] if rows else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None, "wrong password" if rows else "no such account"
    if not rows:
        return None, "no such account"
    user = _user(rows[0])
    if user.disabled:
        return None, "account disabled"
    if _hasher.check_needs_rehash(stored):  # parameters raised since: upgrade on sign-in
        store.execute("UPDATE users SET password_hash = ? WHERE name = ?", [_hasher.hash(password), name])
    return user, ""
