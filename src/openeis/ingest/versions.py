"""Record versions: what a re-ingest keeps of a record it changes.

A changed record is one of two things:

- an *update the source dates itself*: every changed column is a date that arrives (from empty
  to a value: `decided_at`, `ends_at`, `left_at`) or a value decided with it (a finding, status,
  decision or outcome that was undecided, a leaving reason). The source says when it happened,
  and the leakage rules already read it from that date (a finding counts from decided_at, an end
  from the day after it), so the record is replaced in place, as if the store had seen its
  final form at once;
- a *correction*: anything else (a category, a date that moves, a finding that changes from one
  decided value to another, a value without its date). The store did not know the new version
  before the batch, so the version it replaces is kept in `<table>_history` with the interval
  during which it was the store's truth: from where the version before it ended (empty: its
  own recorded_at, for a record's first version) to the batch's time, or the time the force
  made the change when the batch says so (`ingest --changed-at`). The current row then holds
  from that time; its start is not stored on it but read as the latest `_valid_to` of its
  history (features.sources.versions_sql), so the canonical tables keep their columns.
"""

from __future__ import annotations

from datetime import datetime

from openeis.ingest.problems import IngestFailed
from openeis.schema import Table
from openeis.store import Store
from openeis.store.ddl import history_name

# Dates a source fills in later, each with its own meaning in the leakage rules.
ARRIVING_DATES = ("decided_at", "ends_at", "left_at")
# Columns decided together with a date: dated by it only when it arrives in the same change.
COMPANIONS = {"outcome": "decided_at", "leaving_reason": "left_at"}


def companions(table: Table) -> dict[str, tuple[str, tuple[str, ...]]]:
    """column -> (its date, the codes that mean "not yet") for this table."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {name: (date, ()) for name, date in COMPANIONS.items() if table.has(name) and table.has(date)}
    if table.decision:
        column, undecided = table.decision
        out[column] = ("decided_at", undecided)
    return out


def correction_sql(table: Table, old: str = "t", new: str = "s") -> str:
    """SQL: TRUE when the change from row `old` to row `new` is a correction (module text)."""
    decided_with = companions(table)
    parts = []
    for column in table.columns:
        changed = f"{new}.{column.name} IS DISTINCT FROM {old}.{column.name}"
        if column.name in ARRIVING_DATES:
            allowed = f"{old}.{column.name} IS NULL"
        elif column.name in decided_with:
            date, undecided = decided_with[column.name]
            was_open = f"{old}.{column.name} IS NULL" + "".join(
                f" OR {old}.{column.name} = '{code}'" for code in undecided)
            allowed = f"({was_open}) AND {old}.{date} IS NULL AND {new}.{date} IS NOT NULL"
        else:
            allowed = "FALSE"
        parts.append(f"({changed} AND NOT ({allowed}))")
    return "(" + " OR ".join(parts) + ")"


def keep_earlier_versions(store: Store, table: Table, changed: str, batch_id: str, valid_to: datetime) -> int:
    """Copy the current rows that `changed` (record_key, correction) marks as corrected into the
    history table, valid until `valid_to`. Refuses a batch that would end a version before it
    began (extracts loaded out of date order). Returns the number of versions kept."""
    history = history_name(table)
    key = table.key
    late = int(store.scalar(
        f"SELECT count(*) FROM {changed} c JOIN {history} h ON h.{key} = c.record_key "
        "WHERE c.correction AND h._valid_to >= ?", [valid_to]))
    if late:
        raise IngestFailed(
            f"{table.name}: {late} record(s) already have a version from {valid_to:%Y-%m-%d %H:%M:%S} or later; "
            "a batch cannot correct them as of an earlier time (load extracts in date order, or give "
            "a later --changed-at); nothing was written")
    columns = ", ".join(f"t.{c.name}" for c in table.columns)
    names = ", ".join(c.name for c in table.columns)
    store.execute(
        f"INSERT INTO {history} ({names}, _batch_id, _row_hash, _valid_from, _valid_to, _superseded_by) "
        f"SELECT {columns}, t._batch_id, t._row_hash, h.valid_from, ?, ? "
        f"FROM {table.qualified_name} t JOIN {changed} c ON c.record_key = t.{key} AND c.correction "
        f"LEFT JOIN (SELECT {key}, max(_valid_to) AS valid_from FROM {history} GROUP BY {key}) h "
        f"ON h.{key} = t.{key}",
        [valid_to, batch_id])
    return int(store.scalar(f"SELECT count(*) FROM {changed} WHERE correction"))
