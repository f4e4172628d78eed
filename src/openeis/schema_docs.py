"""Write docs/data-model.md from openeis.schema: `python -m openeis.schema_docs > docs/data-model.md`.

A test regenerates it and compares, so the document can never drift from the code.
"""

from __future__ import annotations

from openeis.schema import DECIDED_FINDINGS, TABLES, Privacy, Table

INTRO = """# The OpenEIS data model

Generated from `src/openeis/schema.py` by `python -m openeis.schema_docs`; do not edit by
hand (a test compares the two).

## The three times

Every event record carries the times that keep features free of hindsight:

| column | meaning | how features use it |
| --- | --- | --- |
| `occurred_at` | when the thing happened (for a span such as a posting or an absence: when it began) | windows ("in the last 90 days") are measured on it |
| `recorded_at` | when the force knew of it | a record exists for a feature on date D only if recorded before D (`recorded_at < D`: what is dated D is known from D + 1) |
| `decided_at` | when a later decision was made: an allegation's finding, a claim's approval, a declaration's decision | a decision counts on date D only if made before D; until then the record is open |

The as-of date D is the instant D 00:00, and a date-only value is known at the end of its day,
so whatever is dated D belongs to the label window that starts at D, not to the features on D
(the boundary rule: docs/features.md).

Reference tables (units, the roster, protected characteristics) carry `recorded_at`; the
roster's own dates are `joined_at` and `left_at`.

Rules that ingestion enforces on the times:
- a date must be `YYYY-MM-DD`, optionally with a time (`THH:MM`, `THH:MM:SS`, fractions of a
  second, or a space for the `T`), optionally with `Z` or an offset (`+01:00`, `-0500`, `+05`),
  which is converted to UTC; a time without one is taken as given. Nothing else: not
  `infinity` or `epoch`, no words after the time;
- it lies between `[ingest] earliest_date` and `latest_date` (default 1900-01-01 to
  2100-12-31; docs/config.md), and so do years such as `birth_year`;
- the end of a span is not before its start (error);
- a decision and its date go together: an undecided row (an `open` allegation, a `pending`
  claim or declaration) has no `decided_at`, and a decided one must have it (error), because
  a finding with no date could leak into features from before it was made;
- `recorded_at` before `occurred_at`, and `decided_at` before `recorded_at`, are warnings, not
  errors: real data has them, and the row is kept as given.

Every value: no control characters (a NUL byte, a line break or an escape inside an
identifier, a code or a date is refused, with its line and column); whole numbers within
64 bits; numbers finite.

## Privacy on the way in

- Columns marked *pseudonymised* are replaced on ingest by a keyed HMAC-SHA256 pseudonym
  (20 hex characters). The key is a 32-byte random file beside the store (mode 0600) and never
  enters the database. Equal raw values in the same namespace get equal pseudonyms, so one
  officer is one pseudonym in every table; different namespaces (officer, complaint, case...)
  never collide.
- Columns listed as *discarded* (names, addresses, free text) are accepted in input files and
  dropped in memory before anything is stored. Any other column not in the model is dropped
  too, with a note in the ingest summary.
- Tables in the `restricted` schema hold protected characteristics and complainants' details:
  they are read only by the bias audit and never by features or models.

## Bookkeeping tables

| table | what it holds |
| --- | --- |
| `schema_migrations` | version, name and time of each migration applied |
| `store_meta` | store facts, e.g. the key fingerprint (an HMAC of a constant: identifies the key, does not reveal it) |
| `ingest_batches` | one row per ingest run: format, source, mode, files, rows read/inserted/updated/unchanged/quarantined, warnings |
| `ingest_files` | one row per canonical file a batch read: table, file name, SHA-256 of its bytes, size, rows it inserted or updated (a later ingest skips a file it has already loaded) |
| `record_changes` | one row per record changed by a re-ingest: table, record key (pseudonym), changed column names, old and new row hashes (not old values) |
| `quarantine` | rows refused by `ingest --quarantine`: file, line, column, value (pseudonymised where the column is), reason, and the row minimised as JSON |

Every canonical table also has `_batch_id` (the batch that last wrote the row) and
`_row_hash` (hash of its content, to see a changed record on re-ingest).

## Record versions

A canonical table holds the current version of each record. When a re-ingest changes a
record, the change is one of two kinds (`src/openeis/ingest/versions.py`):

- an **update the source dates itself**: every changed column is a date that arrives
  (`decided_at`, `ends_at`, `left_at`: from empty to a value) or a value decided with it (the
  finding, status, decision or outcome that was undecided; a leaving reason). The record is
  replaced in place: the leakage rules already read a decision from its `decided_at` and an
  end from the day after it, so features on every date are those of a store that had the
  final record all along;
- a **correction**: anything else (a category, a date that moves, a finding that changes from
  one decided value to another or is reopened, an outcome or leaving reason without its
  date). The version it replaces is kept in `<table>_history` (`restricted.<table>_history`
  for restricted tables), with the table's own columns, `_batch_id` and `_row_hash` of that
  version, and:

| column | meaning |
| --- | --- |
| `_valid_from` | from when the version was the store's truth; empty for a record's first version, which holds from its own `recorded_at` |
| `_valid_to` | when the correction replaced it: the correcting batch's time (UTC), or `ingest --changed-at` (when the force made the change, e.g. an extract's date) |
| `_superseded_by` | the batch that replaced it |

The current row holds from the latest `_valid_to` among its earlier versions. Features,
labels, cohorts and `sar --as-of` read on each date D the version that held then (its start
before D, its end not), so a correction made after D changes nothing on D. Corrections must
come in date order: a batch whose `--changed-at` is not after a record's latest version is
refused. Retention deletes a record's versions with it; subject access exports them.

## Tables
"""


def _column_row(table: Table, column) -> str:
    notes = []
    if column.name == table.key:
        notes.append("key")
    if column.required:
        notes.append("required")
    if column.privacy is Privacy.PSEUDONYMISE:
        notes.append(f"pseudonymised (namespace `{column.namespace}`)")
    if column.references:
        notes.append(f"refers to `{column.references}`")
    if column.minimum is not None:
        notes.append(f"at least {column.minimum:g}")
    if column.calendar_year:
        notes.append("a year within the span of dates")
    meaning = column.description
    if column.codes:
        meaning += " Codes: " + ", ".join(f"`{code}`" for code in column.codes) + "."
    return f"| `{column.name}` | {column.type.value} | {'; '.join(notes)} | {meaning} |"


def table_section(table: Table) -> str:
    lines = [f"### {table.qualified_name}", "", table.description, ""]
    if table.restricted:
        lines += ["Restricted: lives in the `restricted` schema, read by the bias audit only.", ""]
    lines += ["| column | type | constraints | meaning |", "| --- | --- | --- | --- |"]
    lines += [_column_row(table, column) for column in table.columns]
    lines.append("")
    if table.discarded:
        lines += [f"Accepted in input and discarded: {', '.join(f'`{c}`' for c in table.discarded)}.", ""]
    if table.decision:
        column, undecided = table.decision
        lines += [
            f"`{column}` {'/'.join(f'`{c}`' for c in undecided)} means not decided yet: no "
            "`decided_at`; any other value requires `decided_at`.",
            "",
        ]
    for note in table.notes:
        lines += [note, ""]
    return "\n".join(lines)


def data_model_markdown() -> str:
    sections = [INTRO]
    sections += [table_section(table) for table in TABLES]
    sections.append(
        "## Findings\n\nDecided findings: " + ", ".join(f"`{f}`" for f in DECIDED_FINDINGS)
        + ". `upheld` is what other systems call sustained or substantiated.\n"
    )
    return "\n".join(sections)


if __name__ == "__main__":
    print(data_model_markdown(), end="")
