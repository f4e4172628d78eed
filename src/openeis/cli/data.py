"""features, labels, splits, warehouse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.application import data as actions
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, EngineOption, KeyFileOption, StoreOption, command,
                                console, progress_bar, session)


def register(app: typer.Typer) -> None:
    command(app)(features)
    command(app)(labels)
    command(app)(warehouse)
    command(app)(splits)


def features(
    as_of: Annotated[str, typer.Option("--as-of", help="As-of dates: 2020-01-01,2020-07-01 or a range 2019-01-01:2021-12-01:1m.")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write (one row per officer and as-of date).")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
    engine: EngineOption = None,
) -> None:
    """Leakage-free features as of each date: only what the force knew on that date."""
    with session(store, key_file, config) as caller, progress_bar() as update:
        summary = actions.export_features(caller, as_of, out, engine, update)
    console.print(f"features {summary['path']}: {summary['rows']} rows (officer x as-of date), "
                  f"{summary['columns'] - 2} features, {summary['dates']} as-of date(s)")


def labels(
    as_of: Annotated[str, typer.Option("--as-of", help="As-of dates (as for `features`).")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    label: Annotated[Optional[list[str]], typer.Option("--label", help="Label name (repeatable; default from config).")] = None,
    known_at: Annotated[Optional[str], typer.Option("--known-at", help="Count only what was known on this date (default: everything in the store).")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
    engine: EngineOption = None,
) -> None:
    """Labels (what followed each as-of date), as known at a date."""
    with session(store, key_file, config) as caller:
        written = actions.export_labels(caller, as_of, out, label, known_at, engine)
    rates = ", ".join(f"{name} {positives}/{written.rows}" for name, positives in written.positives.items())
    console.print(f"labels {out}: {rates}")


def warehouse(
    out: Annotated[str, typer.Option("--out", help="Directory (or hdfs://, s3a:// path mounted here) to write the warehouse to.")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Copy the tables features and labels read into a Parquet warehouse, for Spark
    (`--engine spark://...?warehouse=DIR`). Pseudonymous records only: never the protected
    characteristics, the quarantine or the access log. The copy is logged as an export."""
    with session(store, key_file, config) as caller, progress_bar() as update:
        written = actions.export_warehouse(caller, out, update)
    console.print(f"warehouse {out}: {len(written)} tables, {sum(written.values()):,} rows "
                  "(pseudonymous records; rewrite it after each ingest)")


def splits(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Test dates (as for `backtest`); default: "
                                                 "the dates of the configured plan.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """The temporal split plan: test dates and their training dates (derived from the test
    dates and the store's records unless [splits] sets start and end)."""
    with session(store, key_file, config) as caller:
        plan = actions.split_plan(caller, as_of)
    if as_json:
        print(json.dumps([s.as_dict() | {"label_maturity_months": plan.maturity[s.test_date]} for s in plan.splits],
                         indent=1))
        return
    out = RichTable(title=f"split plan (label {plan.label})")
    for heading in ("test date", "training dates", "first", "last", "label maturity (months)",
                    "training labels known at"):
        out.add_column(heading)
    for s in plan.splits:
        out.add_row(s.test_date.isoformat(), str(len(s.train_dates)), s.train_dates[0].isoformat(),
                    s.train_dates[-1].isoformat(), str(plan.maturity[s.test_date]),
                    s.train_labels_known_at.isoformat() if s.train_labels_known_at else "everything")
    console.print(out)
