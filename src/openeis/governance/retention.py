"""Retention: delete what is due under the force's rules, record counts, leave no trace.

A rule says: rows of TABLE whose TIME column is more than YEARS before today (or --as-of)
are deleted, optionally only rows whose column has one of some values (e.g. allegations not
upheld). Rules on complainants can be measured from their complaint's closing date.

A record goes with its earlier versions (`<table>_history`: the versions a correction
replaced), its change history and its quarantined copies; an officer whose record is gone
also loses their seal in the identity vault (restricted.identity_vault), so that no one can
reveal them any more.

After deleting, the store file is rewritten (a fresh copy of every table, swapped in
atomically), because a database file keeps deleted rows in freed blocks until they happen to
be overwritten: "deleted" must mean gone from the file, not only from queries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from openeis.config.retention import RetentionRule
from openeis.schema import TABLES_BY_NAME
from openeis.store import Store
from openeis.store.ddl import history_name

# Tables that later stages fill from the canonical ones; emptied rows there are rebuilt.
DERIVED_TABLE_PREFIXES = ("features", "scores", "flags", "explanations")
IDENTITY_VAULT = "restricted.identity_vault"


@dataclass(frozen=True)
class RuleOutcome:
    rule: RetentionRule
    cutoff: datetime
    rows: int


def _cutoff(as_of: date, years: float) -> datetime:
    return datetime.combine(as_of, datetime.min.time()) - timedelta(days=round(years * 365.25))


def due(store: Store, rules: list[RetentionRule], as_of: date) -> list[RuleOutcome]:
    """How many rows each rule would delete today."""
    outcomes = []
    for rule in rules:
        cutoff = _cutoff(as_of, rule.years)
        where, params = rule.where_sql()
        table = TABLES_BY_NAME[rule.table].qualified_name
        count = store.scalar(f"SELECT count(*) FROM {table} t WHERE {where}", [cutoff, *params])
        outcomes.append(RuleOutcome(rule, cutoff, int(count)))
    return outcomes


def derived_tables(store: Store) -> list[str]:
    rows = store.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema IN ('main', 'public')"
    )
    return sorted(name for (name,) in rows if name.startswith(DERIVED_TABLE_PREFIXES))


def apply(store: Store, rules: list[RetentionRule], as_of: date) -> list[RuleOutcome]:
    """Delete what is due, in one transaction; the caller logs the counts and compacts."""
    outcomes = due(store, rules, as_of)
    for outcome in outcomes:
        if outcome.rows == 0:
            continue
        rule = outcome.rule
        table = TABLES_BY_NAME[rule.table]
        where, params = rule.where_sql()
        keys = f"SELECT t.{table.key} FROM {table.qualified_name} t WHERE {where}"
        # Traces of the removed records elsewhere: earlier versions, change history (and
        # quarantined copies, below).
        store.execute(f"DELETE FROM {history_name(table)} WHERE {table.key} IN ({keys})",
                      [outcome.cutoff, *params])
        store.execute(
            f"DELETE FROM record_changes WHERE table_name = ? AND record_key IN ({keys})",
            [rule.table, outcome.cutoff, *params],
        )
        store.execute(f"DELETE FROM {table.qualified_name} t WHERE {where}", [outcome.cutoff, *params])
    if any(o.rows for o in outcomes):
        # An officer whose record is gone is gone from the identity vault too: a sealed staff
        # number kept for nobody would outlive the data it lets someone re-identify.
        store.execute(f"DELETE FROM {IDENTITY_VAULT} WHERE officer_id NOT IN (SELECT officer_id FROM officers)")
        store.execute("DELETE FROM quarantine WHERE quarantined_at < ?", [_cutoff(as_of, 1)])
        # Features, scores and flags computed from removed records are stale: drop them so
        # they are rebuilt from what remains.
        for name in derived_tables(store):
            store.execute(f"DELETE FROM {name}")
    return outcomes


def compact_duckdb_file(path: Path) -> None:
    """Rewrite a DuckDB store into a fresh file and swap it in, so deleted rows leave no
    trace in freed blocks. The swap is an atomic rename: a crash leaves old or new, whole."""
    import duckdb

    from openeis import thread_pools

    fresh = path.with_name(path.name + ".compacting")
    if fresh.exists():
        fresh.unlink()
    connection = duckdb.connect(str(path), config=thread_pools.duckdb_config())
    try:
        connection.execute(f"ATTACH '{fresh}' AS fresh")
        connection.execute(f"COPY FROM DATABASE \"{_catalog(connection)}\" TO fresh")
        connection.execute("DETACH fresh")
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
    os.replace(fresh, path)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.unlink()


def compact_postgres(store: Store, outcomes: list[RuleOutcome]) -> list[str]:
    """PostgreSQL's counterpart of compact_duckdb_file: VACUUM FULL rewrites every table that
    lost rows into new files and removes the old ones, so deleted rows are gone from the
    table files. Run after the deleting transaction has committed (VACUUM cannot run inside
    one); it locks each table while it runs. Copies outside the tables (WAL segments not yet
    recycled, backups) follow the server's own retention. Returns the tables rewritten."""
    if not any(o.rows for o in outcomes):
        return []
    tables = {TABLES_BY_NAME[o.rule.table].qualified_name for o in outcomes if o.rows}
    tables |= {history_name(TABLES_BY_NAME[o.rule.table]) for o in outcomes if o.rows}
    tables.add(IDENTITY_VAULT)  # seals of officers whose record went (apply)
    tables |= {"record_changes", "quarantine", *derived_tables(store)}
    store.vacuum_full(sorted(tables))  # type: ignore[attr-defined]
    return sorted(tables)


def _catalog(connection) -> str:
    return connection.execute("SELECT current_database()").fetchone()[0]
