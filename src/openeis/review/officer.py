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
    """The officer's records, newest first: kind, record reference, when, and what."""
    tables = {t.name: t for t in TABLES}
    parts, params = [], []
    for name in TIMELINE_TABLES:
        table = tables[name]
        columns = _summary_columns(table)
        details = " || '; ' || ".join(
            f"'{c}=' || coalesce(CAST({c} AS VARCHAR), '-')" for c in columns) or "''"
        decided = "decided_at" if any(c.name == "decided_at" for c in table.columns) else "NULL"
        parts.append(f"SELECT '{name}' AS kind, CAST({table.key} AS VARCHAR) AS record, occurred_at, "
                     f"recorded_at, CAST({decided} AS TIMESTAMP) AS decided_at, {details} AS details "
                     f"FROM {name} WHERE officer_id = ?")
        params.append(officer)
    sql = " UNION ALL ".join(parts) + f" ORDER BY occurred_at DESC, kind, record LIMIT {int(limit)}"
    return [{"kind": r[0], "record": r[1], "occurred_at": r[2].isoformat(timespec="minutes"),
             "recorded_at": r[3].isoformat(timespec="minutes") if r[3] else None,
             "decided_at": r[4].isoformat(timespec="minutes") if r[4] else None,
             "details": r[5]} for r in store.query(sql, params)]


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
