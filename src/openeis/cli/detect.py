"""detect: the integrity detectors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.application.detect import detect as run_detect
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, KeyFileOption, StoreOption, command, console,
                                progress_bar, session, write_json)


def register(app: typer.Typer) -> None:
    command(app)(detect)


def detect(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Last day of the period examined (default: the latest date in the data).")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the hits as JSON here.")] = None,
    write_flags: Annotated[bool, typer.Option("--write-flags/--no-write-flags", help="Put the hits in the review queue as flags (source `detector`).")] = True,
    audit_out: Annotated[Optional[Path], typer.Option("--audit", help="Also audit the detectors' hit rates by protected group and write the audit JSON here.")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Run the integrity detectors (overtime and duty, rostering, IT access, declarations,
    attendance) over the period ending on the as-of date. Each hit names its detector, the
    kind of prompt (integrity, welfare, performance), a plain-English reason and the records
    behind it. A hit is a prompt for a person to look, never a finding."""
    with session(store, key_file, config) as caller, progress_bar() as update:
        found = run_detect(caller, as_of, write_flags, audit_out is not None, update)
    run, written, audit, day = found.run, found.written, found.audit, found.day
    payload = run.as_dict() | ({"flags": written} if written else {})
    if json_out:
        write_json(json_out, payload)
    if audit_out:
        write_json(audit_out, {"as_of": day.isoformat(), "detectors": audit})
    _print_run(run, written)
    if json_out or audit_out:
        console.print("wrote " + " and ".join(str(p) for p in (json_out, audit_out) if p))


def _print_run(run, written) -> None:
    table = RichTable(title=f"integrity detectors, {run.period.start} to {run.period.as_of}: "
                      f"{len(run.officers)} officers examined")
    for heading in ("detector", "prompt", "method", "tested", "hits", "workload notes"):
        table.add_column(heading)
    for r in run.results:
        kind = run.config.settings(r.name).prompt_kind
        notes = ""
        if "workload_cleared" in r.notes:
            notes = (f"{r.notes['workload_cleared']} cleared by exposure, "
                     f"{r.notes['mostly_workload']} hits mostly workload")
        table.add_row(r.name, kind, "rule" if r.method == "rule" else "peers, FDR", str(r.tested),
                      str(len(r.hits)), notes)
    console.print(table)
    if written is not None:
        console.print(f"{written['written']} flags written to the review queue "
                      f"({written['kept_in_review']} already in review kept). A hit is a prompt for "
                      "review, never a finding.")
