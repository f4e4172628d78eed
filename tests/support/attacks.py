"""Helpers for the attack suite (tests/attacks): a store with a short, anchored access log,
and a digest of everything a store holds, to prove a refused command changed nothing."""

from __future__ import annotations

from pathlib import Path

from openeis.application.session import create_store, open_session
from openeis.config import OpenEISConfig
from openeis.governance.roles import Action, Actor, Resource, Role
from openeis.store import open_store
from support.commands import table_digests

ANALYST = Actor("cli:analyst-1", Role.ANALYST)


def logged_store(url: str, key_file: Path, entries: int = 10) -> None:
    """`openeis init`, then `entries` access-log entries through the application layer (so
    the anchor beside the key follows them); entry 5 is a refusal."""
    config = OpenEISConfig()
    create_store(url, config, key_file)
    with open_session(url, ANALYST, config, key_file) as session, session.transaction():
        for number in range(1, entries + 1):
            if number == 5:
                session.log_refusal(Action.READ, Resource.PROTECTED, {"officer": f"pseudonym{number}"},
                                    "curiosity", "role analyst may not read protected_characteristics")
            else:
                session.log(Action.READ, Resource.SOURCE_RECORDS, {"officers": [f"pseudonym{number}"]},
                            "monthly review")


def every_table(url: str) -> list[str]:
    store = open_store(url)
    try:
        rows = store.query("SELECT table_schema, table_name FROM information_schema.tables "
                           "WHERE table_schema IN ('main', 'public', 'restricted') AND table_type = 'BASE TABLE'")
    finally:
        store.close()
    return sorted(name if schema in ("main", "public") else f"{schema}.{name}" for schema, name in rows)


def full_digest(url: str) -> dict[str, str]:
    """A digest of every table's content, the access log and store_meta included."""
    return table_digests(url, every_table(url))
