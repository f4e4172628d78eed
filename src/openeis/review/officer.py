"""What a reviewer sees of one officer: a timeline of records, score history, flags, and what
happened after a decision (post-intervention monitoring). Pseudonymous throughout: the store
holds no names."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from openeis.health import HEALTH_COLUMNS, conduct_absence_kind
from openeis.schema import TABLES, TABLES_BY_NAME
from openeis.store import Store

# The records a reviewer reads on a timeline. The high-volume operational tables (duty
# periods, overtime, swaps, system look-ups) are left to the integrity detectors, which
# cite the records behind each hit.
TIMELINE_TABLES = ("allegations", "use_of_force", "absences", "commendations", "training",
                   "performance_reviews", "postings", "declarations", "other_events")
TIMELINE_LIMIT = 300
# Every table of one officer's records that a reviewer may browse (the timeline's and the
# operational ones the detectors cite), with paging and filters.
RECORD_TABLES = TIMELINE_TABLES + ("overtime_claims", "shift_swaps", "system_access", "duty_periods")
WINDOW_DAYS = {"30d": 30, "90d": 90, "180d": 180, "1y": 365, "2y": 730, "5y": 1826}
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


def _details_sql(table, health_visible: bool) -> str:
    """What the record was, as one 'column=value; ...' string, in SQL (both engines). Health
    columns are left out, and a sickness absence reads 'unfit for duty', unless the reader may
    see health data (occupational health, line managers in welfare, the officer)."""
    parts = []
    for name in _summary_columns(table):
        if not health_visible and name in HEALTH_COLUMNS.get(table.name, ()):
            continue
        value = f"coalesce(CAST({name} AS VARCHAR), '-')"
        if table.name == "absences" and name == "kind" and not health_visible:
            value = ("CASE kind WHEN 'sickness' THEN 'unfit for duty' WHEN 'restricted_duty' THEN 'restricted duty' "
                     "ELSE kind END")
        parts.append(f"'{name}=' || {value}")
    return " || '; ' || ".join(parts) if parts else "''"


def _record_select(name: str, health_visible: bool) -> str:
    table = TABLES_BY_NAME[name]
    columns = {c.name for c in table.columns}
    decided = "decided_at" if "decided_at" in columns else "CAST(NULL AS TIMESTAMP)"
    return (f"SELECT '{name}' AS kind, CAST({table.key} AS VARCHAR) AS record, occurred_at, recorded_at, "
            f"{decided} AS decided_at, {_details_sql(table, health_visible)} AS details FROM {name}")


def records(store: Store, officer: str, kinds: list[str] | None = None, since: datetime | None = None,
            until: datetime | None = None, limit: int = 50, offset: int = 0,
            health_visible: bool = False) -> tuple[list[dict], int]:
    """One page of the officer's records of the given kinds (tables), newest first, that
    happened in [since, until); and how many there are in all."""
    chosen = [k for k in (kinds or RECORD_TABLES) if k in RECORD_TABLES]
    where, params = ["officer_id = ?"], list[object]([officer])
    if since:
        where.append("occurred_at >= ?")
        params.append(since)
    if until:
        where.append("occurred_at < ?")
        params.append(until)
    union = " UNION ALL ".join(f"{_record_select(k, health_visible)} WHERE {' AND '.join(where)}" for k in chosen)
    all_params = params * len(chosen)
    total = int(store.scalar(f"SELECT count(*) FROM ({union}) r", all_params) or 0)
    rows = store.query(f"SELECT kind, record, occurred_at, recorded_at, decided_at, details FROM ({union}) r "
                       f"ORDER BY occurred_at DESC, kind, record LIMIT {int(limit)} OFFSET {int(offset)}", all_params)
    return [_record(r) for r in rows], total


def _record(row) -> dict:
    return {"kind": row[0], "record": row[1],
            "occurred_at": row[2].isoformat(timespec="minutes") if row[2] else None,
            "recorded_at": row[3].isoformat(timespec="minutes") if row[3] else None,
            "decided_at": row[4].isoformat(timespec="minutes") if row[4] else None, "details": row[5]}


def records_by_id(store: Store, officer: str, references: list[dict], health_visible: bool = False) -> list[dict]:
    """The records a detector hit cites ({"table", "record"}), in full, in the order given;
    only the officer's own (a reference to anyone else's is not shown)."""
    by_table: dict[str, list[str]] = {}
    for ref in references:
        if ref.get("table") in RECORD_TABLES:
            by_table.setdefault(ref["table"], []).append(str(ref["record"]))
    found = {}
    for name, ids in by_table.items():
        key = TABLES_BY_NAME[name].key
        rows = store.query(f"{_record_select(name, health_visible)} WHERE officer_id = ? AND {key} IN "
                           f"({', '.join('?' for _ in ids)})", [officer, *ids])
        found.update({(r[0], r[1]): _record(r) for r in rows})
    return [found[(r["table"], str(r["record"]))] for r in references if (r.get("table"), str(r.get("record"))) in found]


def factor_window(feature_spec, as_of: datetime) -> tuple[str | None, datetime | None, datetime]:
    """The table and period behind a feature (a count of complaints in 12 months: allegations
    that happened in the 365 days before the date)."""
    table = feature_spec.source if feature_spec is not None and feature_spec.source in RECORD_TABLES else None
    days = WINDOW_DAYS.get(getattr(feature_spec, "window", "all"))
    return table, (as_of - timedelta(days=days)) if days else None, as_of


def monthly_counts(store: Store, officer: str, health_visible: bool = False) -> list[dict]:
    """The officer's records by month and kind, for the timeline chart (every record, not a
    page of them)."""
    out = []
    for name in TIMELINE_TABLES + ("overtime_claims", "system_access"):
        for month, kind, count in store.query(
                f"SELECT date_trunc('month', occurred_at) AS month, "
                f"{_chart_kind(name, health_visible)} AS kind, count(*) FROM {name} WHERE officer_id = ? "
                "GROUP BY 1, 2 ORDER BY 1", [officer]):
            out.append({"month": month.date().isoformat() if hasattr(month, "date") else str(month)[:10],
                        "kind": kind, "records": int(count)})
    return out


CHART_KINDS = {"allegations": "complaint allegations", "use_of_force": "use of force", "absences": "absences",
               "commendations": "commendations", "training": "training", "performance_reviews": "performance reviews",
               "postings": "postings", "declarations": "declarations", "other_events": "other events",
               "overtime_claims": "overtime claims", "system_access": "system look-ups"}


def _chart_kind(name: str, health_visible: bool) -> str:
    if name == "absences" and not health_visible:
        return "'absences'"
    if name == "absences":
        return "CASE WHEN kind = 'sickness' THEN 'sickness absence' ELSE 'other absences' END"
    return f"'{CHART_KINDS[name]}'"


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
            shown = [(c, conduct_absence_kind(v) if name == "absences" and c == "kind" else v)
                     for c, v in zip(columns, row[4:]) if c not in HEALTH_COLUMNS.get(name, ())]
            details = "; ".join(f"{c}={'-' if v is None else str(v).lower() if isinstance(v, bool) else v}"
                                for c, v in shown)
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
