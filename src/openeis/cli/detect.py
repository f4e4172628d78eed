"""CLI command for the integrity detectors: `openeis detect`. Registered on the main app by
openeis.cli."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.cli import (ConfigOption, DEFAULT_STORE, KeyFileOption, Refused, StoreOption, _config,
                         _open, _progress, _read_key, app, cli_actor, command, console)
from openeis.cli_models import _date, _write_json
from openeis.governance import access_log


@command(app)
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
    from openeis.detectors import run_detectors
    from openeis.detectors import write_flags as write_detector_flags
    from openeis.governance.policy import AccessDenied, authorize
    from openeis.governance.roles import Action, Resource
    from openeis.models import data

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    actor = cli_actor()
    with _open(store) as opened:
        if opened.dialect != "duckdb":
            raise Refused("detectors on PostgreSQL: not yet (they run in DuckDB; Spark through the "
                          "scale issue): use a DuckDB store")
        try:
            authorize(opened, key, actor, Action.READ, Resource.SOURCE_RECORDS, purpose="integrity detectors")
            if write_flags:
                authorize(opened, key, actor, Action.CHANGE, Resource.FLAGS, purpose="integrity detectors")
            if audit_out:
                authorize(opened, key, actor, Action.READ, Resource.AUDITS, purpose="detector bias audit")
        except AccessDenied as error:
            raise Refused(f"access denied: {error}") from None
        try:
            day = _date(as_of, "--as-of") or data.latest_data_date(opened)
        except ValueError as error:
            raise Refused(str(error)) from None
        with _progress() as update:
            run = run_detectors(opened, settings.detectors, day, update)
        access_log.append(opened, key, actor, "read", "source_records",
                          records={"as_of": day.isoformat(), "officers_examined": len(run.officers),
                                   "detectors": [r.name for r in run.results], "hits": len(run.hits)},
                          purpose="integrity detectors")
        written = None
        if write_flags:
            written = write_detector_flags(opened, run)
            access_log.append(opened, key, actor, "change", "flags",
                              records={"as_of": day.isoformat(), "source": "detector",
                                       "flags": [h.flag(day).flag_id for h in run.hits]},
                              purpose="integrity detectors")
        audit = None
        if audit_out:
            from openeis.audit import read_characteristics
            from openeis.detectors.fairness import audit_detectors

            audit = audit_detectors(run, read_characteristics(opened), settings.audit)
            access_log.append(opened, key, actor, "read", "protected_characteristics",
                              records={"as_of": day.isoformat(), "detectors": sorted(audit)},
                              purpose="detector bias audit (aggregates only)")
    payload = run.as_dict() | ({"flags": written} if written else {})
    if json_out:
        _write_json(json_out, payload)
    if audit_out:
        _write_json(audit_out, {"as_of": day.isoformat(), "detectors": audit})
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
