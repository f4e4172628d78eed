"""Subject access: everything held on one officer, as JSON and a readable HTML page.

Which tables to search is found from the store itself, not from a list kept by hand: every
table with an officer column (officer_id, other_officer_id, officer) is searched, so tables
added by later stages (features, scores, flags, reviews) are exported without changing this
code. Complainants' details are third-party data and are left out of an officer's export;
the complaints the officer was named on are included. Earlier versions of corrected records
(`<table>_history`) are exported beside the current ones.

`as_of`: the records as the force knew them when that day began, by the rules features use
(features/sources.py): records recorded before it, in the version that held then, with a
decision, an end or a leaving date made on or after it not yet known (shown undecided or
empty); and the features as of that date. What a model scoring the officer on that date saw.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from openeis.privacy import private_directory, write_private_text
from openeis.schema import TABLES
from openeis.store import Store

OFFICER_COLUMNS = ("officer_id", "other_officer_id", "officer")
THIRD_PARTY_TABLES = {"restricted.complainants", "restricted.complainants_history"}
BOOKKEEPING = {"access_log", "quarantine", "record_changes", "ingest_batches", "ingest_files", "store_meta",
               "schema_migrations"}


@dataclass
class SubjectAccessExport:
    officer: str  # the pseudonym
    sections: dict[str, list[dict]] = field(default_factory=dict)
    as_of: date | None = None  # the records as known then (collect_as_known), or everything held

    def total(self) -> int:
        return sum(len(rows) for rows in self.sections.values())


def officer_tables(store: Store) -> list[tuple[str, list[str]]]:
    """(qualified table, officer columns) for every table that refers to officers."""
    rows = store.query(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        f"WHERE column_name IN ({', '.join('?' for _ in OFFICER_COLUMNS)}) "
        "AND table_schema IN ('main', 'restricted', 'public') ORDER BY table_schema, table_name",
        list(OFFICER_COLUMNS),
    )
    found: dict[str, list[str]] = {}
    for schema, table, column in rows:
        qualified = table if schema in ("main", "public") else f"{schema}.{table}"
        if qualified in BOOKKEEPING or qualified in THIRD_PARTY_TABLES or table.startswith(("stage_", "pseudonymised_")):
            continue
        found.setdefault(qualified, []).append(column)
    return sorted(found.items())


def _records(store: Store, sql: str, params: list) -> list[dict]:
    result = store.query_arrow(sql, params)
    return result.to_pylist()


def collect(store: Store, officer: str, as_of: date | None = None) -> SubjectAccessExport:
    if as_of is not None:
        return collect_as_known(store, officer, as_of)
    export = SubjectAccessExport(officer)
    for table, columns in officer_tables(store):
        where = " OR ".join(f"{column} = ?" for column in columns)
        rows = _records(store, f"SELECT * FROM {table} WHERE {where}", [officer] * len(columns))
        if rows:
            export.sections[table] = rows
    export.sections["complaints"] = _records(
        store,
        "SELECT * FROM complaints WHERE complaint_id IN (SELECT complaint_id FROM allegations WHERE officer_id = ?)",
        [officer],
    )
    export.sections["complaints_history"] = _records(
        store,
        "SELECT * FROM complaints_history WHERE complaint_id IN (SELECT complaint_id FROM allegations WHERE "
        "officer_id = ? UNION SELECT complaint_id FROM allegations_history WHERE officer_id = ?)",
        [officer, officer],
    )
    export.sections["record_changes"] = _records(
        store,
        "SELECT * FROM record_changes WHERE record_key = ? OR record_key IN (SELECT allegation_id FROM allegations "
        "WHERE officer_id = ?)",
        [officer, officer],
    )
    like = f"%{officer}%"
    export.sections["quarantine"] = _records(store, "SELECT * FROM quarantine WHERE row_json LIKE ?", [like])
    export.sections["access_log"] = _records(store, "SELECT * FROM access_log WHERE records LIKE ? ORDER BY seq", [like])
    export.sections = {name: rows for name, rows in export.sections.items() if rows}
    return export


def collect_as_known(store: Store, officer: str, as_of: date) -> SubjectAccessExport:
    """The officer's records as known when `as_of` began (module text)."""
    export = SubjectAccessExport(officer, as_of=as_of)
    instant = f"CAST('{as_of.isoformat()} 00:00:00' AS TIMESTAMP)"
    for table in TABLES:
        officer_columns = [c for c in OFFICER_COLUMNS if table.has(c)]
        if table.qualified_name in THIRD_PARTY_TABLES:
            continue
        if officer_columns:
            where = " OR ".join(f"t.{c} = ?" for c in officer_columns)
            params = [officer] * len(officer_columns)
        elif table.name == "complaints":
            where = "t.complaint_id IN (SELECT complaint_id FROM allegations WHERE officer_id = ? " \
                    "UNION SELECT complaint_id FROM allegations_history WHERE officer_id = ?)"
            params = [officer, officer]
        else:
            continue
        rows = _records(store, f"SELECT * FROM ({_as_known_sql(table, instant)}) t WHERE {where}", params)
        if rows:
            export.sections[table.qualified_name] = rows
    return export


def _as_known_sql(table, as_of: str) -> str:
    """The versions of a table's records known at the instant `as_of` (SQL): one row per
    record, later decisions and ends not yet known."""
    from openeis.features.sources import holds_at, known_by, versions_sql
    from openeis.ingest.versions import ARRIVING_DATES, companions

    decided_with = companions(table)
    select = []
    for column in table.columns:
        name = column.name
        if name in ARRIVING_DATES:
            select.append(f"CASE WHEN {known_by('v.' + name, as_of)} THEN v.{name} END AS {name}")
        elif name in decided_with:
            date_column, undecided = decided_with[name]
            blank = f"'{undecided[0]}'" if undecided else "NULL"
            select.append(f"CASE WHEN v.{date_column} IS NOT NULL AND NOT {known_by('v.' + date_column, as_of)} "
                          f"THEN {blank} ELSE v.{name} END AS {name}")
        else:
            select.append(f"v.{name}")
    return (f"SELECT {', '.join(select)} FROM {versions_sql(table.name, frozenset({table.name}))} v "
            f"WHERE {known_by('v.recorded_at', as_of)}{holds_at('v', as_of, table.name, frozenset({table.name}))}")


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def write_export(export: SubjectAccessExport, directory: Path, generated_for: str) -> tuple[Path, Path]:
    """subject-access.json and .html, readable by their owner only (0600, in a 0700 folder)."""
    private_directory(directory)
    document = {
        "officer_pseudonym": export.officer,
        "generated_at": datetime.now().isoformat(timespec="seconds"),
        "request_reference": generated_for,
        "note": "Identifiers are shown as pseudonyms; names and free text are never stored by OpenEIS. "
        "Details of complainants are third-party data and are not included."
        + (f" Records as known when {export.as_of.isoformat()} began: recorded before that day, in the version "
           "held then, decisions and ends made on or after it not yet known; features as of that date."
           if export.as_of else " Earlier versions of corrected records are in the *_history sections."),
        "as_of": export.as_of.isoformat() if export.as_of else None,
        "sections": {name: [{k: _plain(v) for k, v in row.items()} for row in rows]
                     for name, rows in export.sections.items()},
    }
    json_path = directory / "subject-access.json"
    write_private_text(json_path, json.dumps(document, indent=1, default=str))
    html_path = directory / "subject-access.html"
    write_private_text(html_path, _html(document))
    return json_path, html_path


def _html(document: dict) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Subject access export</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #999;padding:.2em .5em;font-size:.9em;text-align:left}caption{text-align:left;"
        "font-weight:bold;margin:.5em 0}</style></head><body>",
        "<h1>Subject access export</h1>",
        f"<p>Officer (pseudonym): <code>{html.escape(document['officer_pseudonym'])}</code><br>",
        f"Generated: {html.escape(document['generated_at'])}</p>",
        f"<p>{html.escape(document['note'])}</p>",
    ]
    if not document["sections"]:
        parts.append("<p>No records are held about this officer.</p>")
    for name, rows in document["sections"].items():
        columns = list(rows[0].keys())
        parts.append(f"<table><caption>{html.escape(name)} ({len(rows)} records)</caption><tr>")
        parts.extend(f"<th scope='col'>{html.escape(c)}</th>" for c in columns)
        parts.append("</tr>")
        for row in rows:
            cells = "".join(f"<td>{html.escape('' if row[c] is None else str(row[c]))}</td>" for c in columns)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def add_current_features(store: Store, export: SubjectAccessExport, features_config) -> None:
    """The officer's features as of the latest date in the data (or the export's as_of).
    Features are computed on demand, never stored, so a subject access export computes them
    (for the whole cohort of that date, because peer comparisons need it) and keeps the
    officer's row."""
    if store.dialect != "duckdb":
        export.sections["features"] = [{"note": "features on PostgreSQL: not yet (issue 9)"}]
        return
    import math

    from openeis.config import OpenEISConfig
    from openeis.models.data import feature_frame, latest_data_date

    as_of = export.as_of or latest_data_date(store)
    frame = feature_frame(store, [as_of], OpenEISConfig(features=features_config))
    rows = frame[frame["officer"] == export.officer].to_dict("records")
    for row in rows:
        for name, value in row.items():
            if isinstance(value, float) and math.isnan(value):
                row[name] = None
    if rows:
        export.sections["features"] = rows
