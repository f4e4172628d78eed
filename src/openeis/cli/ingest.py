"""ingest, quarantine list, status."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.application import ingest as actions
from openeis.application.errors import BatchRefused, Refused
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, KeyFileOption, StoreOption, command, console,
                                errors, progress_bar, refuse, session, settings)
from openeis.config import OpenEISConfig
from openeis.ingest import Problem
from openeis.ingest.problems import printable


def register(app: typer.Typer) -> None:
    command(app)(ingest)
    quarantine_app = typer.Typer(help="Rows refused by `ingest --quarantine`.", no_args_is_help=True)
    command(quarantine_app, "list")(quarantine_list)
    app.add_typer(quarantine_app, name="quarantine")
    command(app)(status)


def ingest(
    directory: Annotated[Path, typer.Argument(help="Directory (or file, for some formats) to read.")],
    format: Annotated[
        str, typer.Option("--format", help="Input format: canonical, cpdp (Chicago CPDP directory), ccrb (NYC CCRB file), mapped.")
    ] = "canonical",
    mapping: Annotated[
        Optional[Path], typer.Option("--mapping", help="Mapping file for --format mapped (or to override cpdp/ccrb's own).")
    ] = None,
    quarantine: Annotated[
        Optional[bool],
        typer.Option("--quarantine/--atomic", help="Load good rows and quarantine bad ones (default from config: atomic)."),
    ] = None,
    errors_json: Annotated[
        Optional[Path], typer.Option("--errors-json", help="Write every problem to this JSON file.")
    ] = None,
    changed_at: Annotated[
        Optional[datetime], typer.Option(
            "--changed-at", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
            help="When the force made the changes in these files (an extract's date, UTC): corrections "
                 "to records already held take effect from then. Default: now.")
    ] = None,
    reload: Annotated[
        bool, typer.Option("--reload", help="Read every file, even one the store has already loaded unchanged "
                           "(by default such a file is skipped: reading it again could change nothing).")
    ] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Validate, pseudonymise and load a batch of records, all or nothing."""
    loaded = settings(config)
    with session(store, key_file, loaded) as caller:
        try:
            with progress_bar() as update:
                report = actions.ingest(caller, directory, format, mapping, quarantine, update, reload=reload,
                                        changed_at=changed_at)
        except BatchRefused as failure:
            for note in failure.notes:
                print(printable(note), file=sys.stderr)
            _write_problems(errors_json, failure.problems, [])
            shown = failure.problems[: loaded.ingest.max_errors_shown]
            for problem in shown:
                print(problem, file=sys.stderr)
            if len(failure.problems) > len(shown):
                errors.print(f"... and {len(failure.problems) - len(shown)} more (all of them: --errors-json FILE)")
            refuse(printable(str(failure)))
    # Committed: exit code 0 says so only once the report is out too.
    try:
        _write_problems(errors_json, report.errors, report.warnings)
        _print_ingest_report(report, loaded)
    except (Refused, OSError, ValueError) as error:
        refuse(f"batch {report.batch_id} was written, but its report was not: {error}")


def _write_problems(path: Path | None, problems: list, warnings: list) -> None:
    if path is None:
        return
    try:
        path.write_text(
            json.dumps(
                {"errors": [p.as_dict() for p in problems], "warnings": [p.as_dict() for p in warnings]},
                indent=1,
            )
        )
    except OSError as error:
        raise Refused(f"cannot write --errors-json {path}: {error.strerror or error}") from None


def _print_ingest_report(report, loaded: OpenEISConfig) -> None:
    table = RichTable(title=f"ingest batch {report.batch_id} ({report.mode})")
    for heading in ("file", "read", "inserted", "updated", "unchanged", "quarantined", "warnings"):
        table.add_column(heading, justify="left" if heading == "file" else "right")
    for t in report.tables:
        table.add_row(printable(t.file), *(str(v) for v in (t.rows_read, t.inserted, t.updated, t.unchanged,
                                                            t.quarantined, t.warnings)))
    console.print(table)
    corrected = report.total("corrected")
    if corrected:
        console.print(f"{corrected} of the updated records were corrections: their earlier versions are kept, "
                      "so dates before the change still read them (docs/data-model.md, Record versions)")
    shown = loaded.ingest.max_errors_shown
    for problem in report.warnings[:shown]:
        print(f"warning: {problem}")
    if len(report.warnings) > shown:
        console.print(f"... and {len(report.warnings) - shown} more warnings")
    # Names from the input (files, columns) are printed as text, never read as markup.
    for file_name, columns in report.discarded_columns.items():
        console.print(printable(f"{file_name}: not stored (data minimisation): {', '.join(columns)}"))
    for file_name, columns in report.unknown_columns.items():
        console.print(printable(f"{file_name}: columns not in the data model, not stored: {', '.join(columns)}"))
    for note in report.notes:
        console.print(printable(note), markup=False, highlight=False)
    if report.skipped_files:
        console.print(printable(f"files skipped (already loaded, nothing loaded into their tables since; --reload "
                                f"reads them again): {', '.join(report.skipped_files)}"), markup=False, highlight=False)
    if report.ignored_files:
        console.print(printable(f"files ignored (not named after a table): {', '.join(report.ignored_files)}"))
    if report.errors:
        console.print(f"{len(report.errors)} problem(s) quarantined: see `openeis quarantine list`")


def quarantine_list(
    table: Annotated[Optional[str], typer.Option(help="Only this table.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """List quarantined rows with their reasons."""
    with session(store, key_file, config) as caller:
        rows = actions.quarantine_rows(caller, table, limit)
    if as_json:
        for row in rows:
            print(json.dumps({"batch_id": row.batch_id, "table": row.table, "file": row.file, "line": row.line,
                              "column": row.column, "value": row.value, "reason": row.reason}))
        return
    if not rows:
        console.print("quarantine is empty")
        return
    # One problem per line, in the same form as ingest errors, so it greps and reads well.
    for row in rows:
        print(f"{row.batch_id} {Problem(row.file, row.line, row.column, row.value, row.reason)}")


def status(
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Row counts per table, schema version and the latest ingest batches."""
    with session(store, key_file, config) as caller:
        found = actions.status(caller)
    out = RichTable(title=f"{store} (schema version {found.schema_version})")
    out.add_column("table")
    out.add_column("rows", justify="right")
    for name, rows in found.rows.items():
        out.add_row(name, str(rows))
    console.print(out)
    for batch in found.batches:
        console.print(
            f"batch {batch[0]} {batch[1]} {batch[2]}: inserted {batch[3]}, updated {batch[4]}, "
            f"unchanged {batch[5]}, quarantined {batch[6]}"
        )
