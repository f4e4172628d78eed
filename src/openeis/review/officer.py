"""What a reviewer sees of one officer: a timeline of records, score history, flags, and what
happened after a decision (post-intervention monitoring). Pseudonymous throughout: the store
holds no names."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from openeis.schema import TABLES
from openeis.store import Store

# The records a reviewer reads on a timeline. The high-volume operational tables (duty
# periods, overtime, swaps, system look-ups) are left to the integrity detectors, which
# cite the records behind each hit.
TIMELINE_TABLES = ("allegations", "use_of_force", "absences", "commendations", "training",
                   "performance_reviews", "postings", "declarations", "other_events")
TIMELINE_LIMIT = 300
# Post-intervention monitoring compares the same length of time before and after a decision.
OUTCOME_TABLES = {"allegations": "complaint allegations", "use_of_force": "use-of-force reports",
                  "absences": "absences"}
OUTCOME_WINDOW_DAYS = 365


def ensure_lookup_indexes(store: Store) -> list[str]:
    """Indexes on the officer column of every table a profile reads, so that one officer's
    records are found without scanning tens of millions of rows (150k officers: 1.3 s -> tens
    of ms). Made when the web application starts rather than by a migration: ingest, which
    does not need them, stays as fast as it was until a store is first served."""
    made = []
    for table, column in [(t, "officer_id") for t in TIMELINE_TABLES] + [("scores", "officer"), ("flags", "officer")]:
        name = f"{table}_{column}_lookup"
        store.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
        made.append(name)
    return made


def _summary_columns(table) -> list[str]:
    """The columns that say what a record was (codes, units, flags, numbers): not its keys,
    its times or other pseudonyms (a pseudonym tells a reader nothing)."""
    keep = []
    for column in table.columns:
        if column.name in (table.key, "officer_id", "occurred_at", "recorded_at", "decided_at", "ends_at"):
            continue
        if column.privacy.value != "keep" or (column.references and column.references != "units"):
            continue
        if column.type.value != "timestamp":
            keep.append(column.name)
    return keep


def timeline(store: Store, officer: str, limit: int = TIMELINE_LIMIT) -> list[dict]:
    """The officer's records, newest first: kind, record reference, when, and what. One query
    per table (each an index lookup on the officer), merged here."""
    tables = {t.name: t for t in TABLES}
    events = []
    for name in TIMELINE_TABLES:
        table = tables[name]
        columns = _summary_columns(table)
        decided = "decided_at" if any(c.name == "decided_at" for c in table.columns) else "NULL"
        select = ", ".join([table.key, "occurred_at", "recorded_at", decided, *columns])
        # No ORDER BY here: with one, DuckDB scans the table instead of using the index.
        for row in store.query(f"SELECT {select} FROM {name} WHERE officer_id = ?", [officer]):
            details = "; ".join(f"{c}={'-' if v is None else str(v).lower() if isinstance(v, bool) else v}"
                                for c, v in zip(columns, row[4:]))
            events.append({"kind": name, "record": str(row[0]), "occurred_at": row[1],
                           "recorded_at": row[2], "decided_at": row[3], "details": details})
    events.sort(key=lambda e: (e["kind"], e["record"]))
    events.sort(key=lambda e: e["occurred_at"], reverse=True)  # stable: ties stay by kind, record
    for event in events[:limit]:
        for when in ("occurred_at", "recorded_at", "decided_at"):
            event[when] = event[when].isoformat(timespec="minutes") if event[when] else None
    return events[:limit]


def score_history(store: Store, officer: str) -> list[dict]:
    rows = store.query("SELECT model_id, as_of, score, score_rank, percentile FROM scores "
                       "WHERE officer = ? ORDER BY as_of, model_id", [officer])
    return [{"model_id": r[0], "as_of": r[1].isoformat(), "score": r[2], "rank": r[3],
             "percentile": r[4]} for r in rows]


def officer_exists(store: Store, officer: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM officers WHERE officer_id = ?", [officer]))


def outcomes_after(store: Store, officer: str, decided_at: datetime, now: datetime) -> dict:
    """Records in the time since a decision (up to a year) against the same length before it,
    and the flags raised since. Counts by when the force knew of them (recorded_at)."""
    days = max(0, min(OUTCOME_WINDOW_DAYS, (now - decided_at).days))
    before_start = decided_at - timedelta(days=days)
    after_end = decided_at + timedelta(days=days)
    counts = []
    for table, label in OUTCOME_TABLES.items():
        before, after = store.query(
            f"SELECT count(*) FILTER (WHERE recorded_at >= ? AND recorded_at < ?), "
            f"count(*) FILTER (WHERE recorded_at >= ? AND recorded_at < ?) FROM {table} WHERE officer_id = ?",
            [before_start, decided_at, decided_at, after_end, officer])[0]
        counts.append({"records": label, "before": before, "after": after})
    later_flags = store.query("SELECT flag_id, as_of, source, status FROM flags WHERE officer = ? "
                              "AND created_at > ? ORDER BY as_of", [officer, decided_at])
    return {"days": days, "counts": counts,
            "later_flags": [{"flag_id": r[0], "as_of": r[1].isoformat(), "source": r[2], "status": r[3]}
                            for r in later_flags]}


def flag_explanation(raw: str | dict) -> dict:
    return raw if isinstance(raw, dict) else json.loads(raw)
