"""sar, retention apply, transparency, log verify|head|show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.application import governance as actions
from openeis.application.errors import Refused
from openeis.application.session import key_path
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, KeyFileOption, StoreOption, command, console,
                                session, settings)


def register(app: typer.Typer) -> None:
    command(app)(sar)
    retention_app = typer.Typer(help="Retention rules: delete what is due.", no_args_is_help=True)
    command(retention_app, "apply")(retention_apply)
    app.add_typer(retention_app, name="retention")
    command(app)(transparency)
    log_app = typer.Typer(help="The tamper-evident access log.", no_args_is_help=True)
    command(log_app, "verify")(log_verify)
    command(log_app, "head")(log_head)
    command(log_app, "reanchor")(log_reanchor)
    command(log_app, "show")(log_show)
    app.add_typer(log_app, name="log")


def sar(
    officer: Annotated[str, typer.Option("--officer", help="The force's officer identifier (or a pseudonym with --pseudonym).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for subject-access.json and .html.")],
    is_pseudonym: Annotated[bool, typer.Option("--pseudonym", help="--officer is already a pseudonym.")] = False,
    reference: Annotated[str, typer.Option(help="The request's reference, recorded in the export and the log.")] = "",
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="The records as the force knew them when this day began (YYYY-MM-DD), and the "
                        "features as of it, instead of everything held.")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Subject access: export everything held on one officer, as JSON and HTML."""
    with session(store, key_file, config) as caller:
        export = actions.subject_access(caller, officer, out, is_pseudonym, reference, as_of)
    console.print(f"{export.records} records in {export.sections} sections for officer {export.officer}")
    console.print(f"written: {export.json_path} and {export.html_path}")


def retention_apply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what is due; delete nothing.")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Apply as on this date (default today).")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Delete records past their retention period, log the counts, rewrite the store file."""
    with session(store, key_file, config) as caller:
        done = actions.retention(caller, dry_run, as_of)
        table = RichTable(title=f"retention as on {done.today}{' (dry run: nothing deleted)' if dry_run else ''}")
        for heading in ("table", "rule", "older than", "rows"):
            table.add_column(heading, justify="right" if heading == "rows" else "left")
        for outcome in done.outcomes:
            table.add_row(outcome.rule.table, outcome.rule.reason or f"{outcome.rule.years} years after {outcome.rule.after}",
                          f"{outcome.cutoff:%Y-%m-%d}", str(outcome.rows))
        console.print(table)
    if done.compacted == "file":
        console.print(f"{store} rewritten: deleted rows leave nothing in the file")
    elif done.compacted == "tables":
        console.print("tables that lost rows rewritten (VACUUM FULL); old rows may remain in WAL and backups")


def transparency(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the records to.")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Public transparency records: a model card per live model, the UK Algorithmic
    Transparency Recording Standard record, and aggregate statistics with small counts suppressed."""
    with session(store, key_file, config) as caller:
        summary = actions.transparency_files(caller, out)
    console.print(f"transparency records in {out}: {summary['model_cards']} model card(s), "
                  "atrs-record.json, public-statistics.json, index.html")


def log_verify(
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Check every link of the access log, its signed head and its anchor outside the store;
    name the first broken entry. Exit code 0 only when all of it checks out (without the key
    file the signatures cannot be checked: "NOT VERIFIED", exit code 1)."""
    loaded = settings(config)
    with session(store, key_file, loaded, key_optional=True) as caller:
        result, _ = actions.verify_log(caller)
        checked_without_key = caller.key is None
    if checked_without_key:
        console.print(f"note: key file {key_path(store, key_file, loaded)} not found", markup=False)
    if not result.verified:
        raise Refused(str(result))
    console.print(str(result), markup=False)


def log_reanchor(
    reason: Annotated[str, typer.Option("--reason", help="Why: e.g. which backup was restored, when and by whose decision.")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Accept the access log as it is now after a restore you know of: move its anchor to the
    current head. The old anchor, the new one and the reason go into the log."""
    with session(store, key_file, config) as caller:
        replaced, seq = actions.reanchor(caller, reason)
    before = f"entry {replaced.seq}" if replaced else "no anchor"
    console.print(f"access log re-anchored at entry {seq} (was: {before})", markup=False)


def log_head(
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Print the signed head (sequence:hash:signature): keep copies outside the system."""
    with session(store, key_file, config) as caller:
        print(actions.log_head(caller) or "empty")


def log_show(
    limit: Annotated[int, typer.Option(help="The newest N entries.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """The newest access-log entries (pseudonymous references only)."""
    with session(store, key_file, config) as caller:
        rows, _ = actions.log_entries(caller, limit)
    for entry in rows:
        if as_json:
            print(json.dumps({**entry.__dict__, "logged_at": entry.logged_at.isoformat()}))
        else:
            print(f"{entry.seq:>6} {entry.logged_at:%Y-%m-%d %H:%M:%S} {entry.actor} ({entry.role}) "
                  f"{entry.action} {entry.resource} [{entry.outcome}] purpose={entry.purpose} {entry.records or ''}")
