"""The `openeis` command line.

Every command takes --store (default ./openeis.duckdb, or OPENEIS_STORE) so several stores
can live side by side, and --config (default ./openeis.toml if present, or OPENEIS_CONFIG).
Exit codes: 0 done, 1 refused (bad input, wrong key...), 2 wrong usage.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from openeis import __version__
from openeis.config import ConfigFileError, OpenEISConfig, config_markdown, load_config
from openeis.ingest import IngestFailed, Problem, ingest_canonical
from openeis.ingest.canonical import KeyMismatch, check_key
from openeis.governance import access_log
from openeis.governance.roles import Actor, Role
from openeis.privacy import KeyFileError, Pseudonymiser, default_key_path, load_or_create_key, read_key_file
from openeis.store import Store, StoreError, open_store

app = typer.Typer(
    help="OpenEIS: an open early-intervention system. A flag is a prompt for human review, "
    "never a verdict.",
    no_args_is_help=True,
    add_completion=False,
)
quarantine_app = typer.Typer(help="Rows refused by `ingest --quarantine`.", no_args_is_help=True)
config_app = typer.Typer(help="The configuration file.", no_args_is_help=True)
log_app = typer.Typer(help="The tamper-evident access log.", no_args_is_help=True)
app.add_typer(log_app, name="log")
retention_app = typer.Typer(help="Retention rules: delete what is due.", no_args_is_help=True)
app.add_typer(retention_app, name="retention")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(config_app, name="config")

console = Console()
errors = Console(stderr=True)

StoreOption = Annotated[
    str,
    typer.Option("--store", envvar="OPENEIS_STORE", help="Store: a DuckDB file path or a postgresql:// URL (spark:// warehouses: features from Python, docs/scale.md)."),
]
ConfigOption = Annotated[
    Optional[str],
    typer.Option("--config", envvar="OPENEIS_CONFIG", help="Config file (TOML or YAML)."),
]
KeyFileOption = Annotated[
    Optional[Path],
    typer.Option("--key-file", envvar="OPENEIS_KEY_FILE", help="Pseudonymisation key file."),
]
DEFAULT_STORE = "openeis.duckdb"


class Refused(Exception):
    """A user-facing failure: printed without a traceback, exit code 1."""


def command(typer_app: typer.Typer, name: str | None = None):
    """Register a command whose Refused errors become a one-line message and exit code 1."""

    def register(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except Refused as error:
                errors.print(f"error: {error}", soft_wrap=True, markup=False, highlight=False)
                raise typer.Exit(1) from None

        return typer_app.command(name)(run)

    return register


def main() -> None:
    app()


def cli_actor() -> Actor:
    """Who is at the command line. Shell access to the store and its key is administrator
    access in effect, so the CLI acts as an administrator named by OPENEIS_USER or the login,
    unless OPENEIS_ROLE names a narrower role (e.g. auditor, for `audit --rows`)."""
    name = os.environ.get("OPENEIS_USER") or getpass.getuser()
    role = os.environ.get("OPENEIS_ROLE", Role.ADMINISTRATOR.value)
    try:
        return Actor(f"cli:{name}", Role(role))
    except ValueError:
        raise Refused(f"OPENEIS_ROLE={role!r}: one of {', '.join(r.value for r in Role)}") from None


def require_feature_engine(opened: Store) -> None:
    """Features (and so models and scoring) run on DuckDB and PostgreSQL stores. A Spark
    warehouse runs feature and label SQL through the Python API only: the commands also
    write the access log (and models, scores) to the store, which a Parquet warehouse
    cannot hold (docs/scale.md)."""
    if opened.dialect == "spark":
        raise Refused("spark:// stores are read-only warehouses: `openeis` commands write the access log "
                      "to the store; run them on the DuckDB or PostgreSQL store the warehouse was written "
                      "from, or build features on Spark with openeis.features.build_features "
                      "(see docs/scale.md)")


EngineOption = Annotated[Optional[str], typer.Option(
    "--engine", envvar="OPENEIS_ENGINE",
    help="Compute on another engine: spark://local[2]?warehouse=DIR or spark://HOST:PORT?warehouse=DIR "
         "(a warehouse written by `openeis warehouse`). The access log stays in --store.")]


@contextmanager
def _engine(opened: Store, engine: str | None) -> Iterator[Store]:
    """The store features and labels are computed on: the store itself, or a Spark
    warehouse given by --engine (while the access log entry goes to the store)."""
    require_feature_engine(opened)
    if not engine:
        yield opened
        return
    if not engine.startswith("spark://"):
        raise Refused(f"--engine {engine}: only spark:// engines (docs/scale.md); "
                      "for DuckDB or PostgreSQL pass the store itself with --store")
    try:
        computing = open_store(engine)
    except (StoreError, ImportError) as error:
        raise Refused(f"--engine {_without_query(engine)}: {error}") from None
    try:
        yield computing
    finally:
        computing.close()


def _without_query(url: str) -> str:
    """An engine URL as logged: settings (which may hold credentials) left out."""
    return url.split("?", 1)[0]


def _require_store(store: str) -> None:
    if "://" not in store and not Path(store).exists():
        raise Refused(f"store {store} does not exist: run `openeis init --store {store}` first")


def _read_key(store: str, key_file: Path | None, settings: OpenEISConfig) -> bytes:
    _require_store(store)  # the missing store is the first thing to fix; its key would be missing too
    try:
        return read_key_file(_key_path(store, key_file, settings))
    except KeyFileError as error:
        raise Refused(str(error)) from None


def _config(path: str | None) -> OpenEISConfig:
    try:
        return load_config(path)
    except ConfigFileError as error:
        raise Refused(str(error)) from None


def _key_path(store: str, key_file: Path | None, config: OpenEISConfig) -> Path:
    if key_file:
        return key_file
    if config.privacy.key_file:
        return Path(config.privacy.key_file)
    return default_key_path(store)


@contextmanager
def _open(store_url: str, must_exist: bool = True) -> Iterator[Store]:
    if must_exist:
        _require_store(store_url)
    try:
        store = open_store(store_url)
    except StoreError as error:
        raise Refused(str(error)) from None
    try:
        if must_exist and store.schema_version() == 0:
            raise Refused(f"{store_url} is not an OpenEIS store: run `openeis init` first")
        if must_exist:
            store.migrate()  # a store made by an older version gains the newer tables
        yield store
    finally:
        store.close()


@contextmanager
def _progress() -> Iterator[callable]:
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    task = bar.add_task("starting", total=1)

    def update(step: str, done: int, total: int) -> None:
        bar.update(task, description=step, completed=done, total=max(total, 1))

    with bar:
        yield update


@command(app)
def version() -> None:
    """Print the OpenEIS version."""
    console.print(__version__)


@command(app)
def init(
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Create the store (schema by versioned migrations) and its pseudonymisation key."""
    settings = _config(config)
    key_path = _key_path(store, key_file, settings)
    try:
        key, created = load_or_create_key(key_path)
    except (KeyFileError, OSError) as error:
        raise Refused(str(error)) from None
    with _open(store, must_exist=False) as opened:
        applied = opened.migrate()
        try:
            check_key(opened, Pseudonymiser(key))
        except KeyMismatch as error:
            raise Refused(f"{store}: {error}") from None
        version_now = opened.schema_version()
    from openeis.store.postgres_store import redacted

    console.print(f"store   {redacted(store)} (schema version {version_now}, {len(applied)} migration(s) applied)")
    console.print(f"key     {key_path} ({'created, mode 0600' if created else 'existing'}): keep it "
                  "apart from the store and back it up; without it pseudonyms cannot be reproduced")


@command(app)
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
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Validate, pseudonymise and load a batch of records, all or nothing."""
    settings = _config(config)
    from openeis.adapters import FORMATS, MappingError, ingest_format

    if format != "canonical" and format not in FORMATS:
        raise Refused(f"unknown format {format!r}: supported: canonical, {', '.join(FORMATS)}")
    use_quarantine = quarantine if quarantine is not None else settings.ingest.on_error == "quarantine"
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:

        log_change = access_log.ingest_logger(opened, key, cli_actor(), purpose="ingest")
        try:
            with _progress() as update:
                if format == "canonical":
                    report = ingest_canonical(opened, directory, Pseudonymiser(key), quarantine=use_quarantine,
                                              progress=update, before_commit=log_change,
                                              memory_limit=settings.ingest.memory_limit)
                else:
                    report = ingest_format(opened, directory, Pseudonymiser(key), format=format, mapping=mapping,
                                           quarantine=use_quarantine, progress=update, before_commit=log_change)
        except MappingError as error:
            raise Refused(str(error)) from None
        except IngestFailed as failure:
            for note in getattr(failure, "notes", []):
                print(note, file=sys.stderr)
            _write_problems(errors_json, failure.problems, [])
            shown = failure.problems[: settings.ingest.max_errors_shown]
            for problem in shown:
                print(problem, file=sys.stderr)
            if len(failure.problems) > len(shown):
                errors.print(f"... and {len(failure.problems) - len(shown)} more (all of them: --errors-json FILE)")
            raise Refused(str(failure)) from None
    _write_problems(errors_json, report.errors, report.warnings)
    _print_ingest_report(report, settings)


def _write_problems(path: Path | None, problems: list, warnings: list) -> None:
    if path is None:
        return
    path.write_text(
        json.dumps(
            {"errors": [p.as_dict() for p in problems], "warnings": [p.as_dict() for p in warnings]},
            indent=1,
        )
    )


def _print_ingest_report(report, settings: OpenEISConfig) -> None:
    table = RichTable(title=f"ingest batch {report.batch_id} ({report.mode})")
    for heading in ("file", "read", "inserted", "updated", "unchanged", "quarantined", "warnings"):
        table.add_column(heading, justify="left" if heading == "file" else "right")
    for t in report.tables:
        table.add_row(t.file, *(str(v) for v in (t.rows_read, t.inserted, t.updated, t.unchanged, t.quarantined, t.warnings)))
    console.print(table)
    for problem in report.warnings[: settings.ingest.max_errors_shown]:
        print(f"warning: {problem}")
    if len(report.warnings) > settings.ingest.max_errors_shown:
        console.print(f"... and {len(report.warnings) - settings.ingest.max_errors_shown} more warnings")
    for file_name, columns in report.discarded_columns.items():
        console.print(f"{file_name}: not stored (data minimisation): {', '.join(columns)}")
    for file_name, columns in report.unknown_columns.items():
        console.print(f"{file_name}: columns not in the data model, not stored: {', '.join(columns)}")
    for note in report.notes:
        console.print(note, markup=False, highlight=False)
    if report.ignored_files:
        console.print(f"files ignored (not named after a table): {', '.join(report.ignored_files)}")
    if report.errors:
        console.print(f"{len(report.errors)} problem(s) quarantined: see `openeis quarantine list`")


@command(quarantine_app, "list")
def quarantine_list(
    table: Annotated[Optional[str], typer.Option(help="Only this table.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """List quarantined rows with their reasons."""
    key = _read_key(store, key_file, _config(config))
    with _open(store) as opened:
        where = "WHERE table_name = ?" if table else ""
        params = [table] if table else []
        rows = opened.query(
            f"SELECT batch_id, table_name, file_name, line, column_name, value, reason FROM quarantine {where} "
            f"ORDER BY quarantined_at, table_name, line LIMIT {int(limit)}",
            params,
        )
        # Quarantined rows are pseudonymous personal data: reading them is logged.
        access_log.append(opened, key, cli_actor(), "read", "quarantine",
                          records={"rows": len(rows), "table": table}, purpose="data quality review")
    if as_json:
        for row in rows:
            keys = ("batch_id", "table", "file", "line", "column", "value", "reason")
            print(json.dumps(dict(zip(keys, row))))
        return
    if not rows:
        console.print("quarantine is empty")
        return
    # One problem per line, in the same form as ingest errors, so it greps and reads well.
    for batch_id, _table, file_name, line, column, value, reason in rows:
        print(f"{batch_id} {Problem(file_name, line, column, value, reason)}")


@command(app)
def status(store: StoreOption = DEFAULT_STORE) -> None:
    """Row counts per table, schema version and the latest ingest batches."""
    from openeis.schema import TABLES

    with _open(store) as opened:
        out = RichTable(title=f"{store} (schema version {opened.schema_version()})")
        out.add_column("table")
        out.add_column("rows", justify="right")
        for t in TABLES:
            out.add_row(t.qualified_name, str(opened.scalar(f"SELECT count(*) FROM {t.qualified_name}")))
        out.add_row("quarantine", str(opened.scalar("SELECT count(*) FROM quarantine")))
        console.print(out)
        batches = opened.query(
            "SELECT batch_id, format, mode, rows_inserted, rows_updated, rows_unchanged, rows_quarantined "
            "FROM ingest_batches ORDER BY started_at DESC LIMIT 5"
        )
    for batch in batches:
        console.print(
            f"batch {batch[0]} {batch[1]} {batch[2]}: inserted {batch[3]}, updated {batch[4]}, "
            f"unchanged {batch[5]}, quarantined {batch[6]}"
        )


@command(app)
def synth(
    officers: Annotated[int, typer.Option(help="Headcount at any time.")] = 2000,
    years: Annotated[int, typer.Option(help="Years of records.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 1,
    out: Annotated[Path, typer.Option(help="Directory to write the canonical files to.")] = Path("synthetic-force"),
    bias: Annotated[
        Optional[list[str]],
        typer.Option(help="Injected bias, repeatable: e.g. upheld:group=B:1.5 or posting:group=B:high_exposure:2.0."),
    ] = None,
    start: Annotated[str, typer.Option(help="First day of the records (YYYY-MM-DD).")] = "2015-01-01",
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Write a deterministic synthetic force as canonical files, with ground truth beside them."""
    from openeis.synth import SynthOptions, generate_force, parse_bias

    try:
        options = SynthOptions(
            officers=officers,
            years=years,
            seed=seed,
            start=start,
            biases=[parse_bias(spec) for spec in bias or []],
            file_format=file_format,
        )
    except ValueError as error:
        raise Refused(str(error)) from None
    with _progress() as update:
        summary = generate_force(options, out, progress=update)
    _print_synth_summary(summary, out)


def _print_synth_summary(summary: dict, out: Path) -> None:
    table = RichTable(title=f"synthetic force in {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.items():
        if isinstance(count, int):
            table.add_row(name, str(count))
    console.print(table)
    console.print(f"ground truth (for tests, never ingested): {out / 'ground_truth'}")


@command(app)
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo writes everything.")] = Path("openeis-demo"),
    officers: Annotated[int, typer.Option(help="Headcount of the synthetic force.")] = 1500,
    years: Annotated[int, typer.Option(help="Years of records.")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Run the whole pipeline that exists so far on a synthetic force, in an embedded store."""
    from openeis.demo import run_demo

    run_demo(directory, officers=officers, years=years, seed=seed, console=console)


@command(app)
def sar(
    officer: Annotated[str, typer.Option("--officer", help="The force's officer identifier (or a pseudonym with --pseudonym).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for subject-access.json and .html.")],
    is_pseudonym: Annotated[bool, typer.Option("--pseudonym", help="--officer is already a pseudonym.")] = False,
    reference: Annotated[str, typer.Option(help="The request's reference, recorded in the export and the log.")] = "",
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Subject access: export everything held on one officer, as JSON and HTML."""
    from openeis.governance.subject_access import add_current_features, collect, write_export

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    pseudonym = officer if is_pseudonym else Pseudonymiser(key).pseudonym("officer", officer)
    with _open(store) as opened:
        export = collect(opened, pseudonym)
        if export.sections:  # an officer the store knows: their current features too
            add_current_features(opened, export, settings.features)
        json_path, html_path = write_export(export, out, reference)
        access_log.append(opened, key, cli_actor(), "export", "subject_access",
                          records={"officer": pseudonym, "records": export.total(), "reference": reference},
                          purpose="subject access request")
    console.print(f"{export.total()} records in {len(export.sections)} sections for officer {pseudonym}")
    console.print(f"written: {json_path} and {html_path}")


@command(retention_app, "apply")
def retention_apply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what is due; delete nothing.")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Apply as on this date (default today).")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Delete records past their retention period, log the counts, rewrite the store file."""
    from datetime import date

    from openeis.governance import retention

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    try:
        today = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise Refused(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    rules = settings.retention.rules
    with _open(store) as opened:
        if dry_run:
            outcomes = retention.due(opened, rules, today)
        else:
            with opened.transaction():
                outcomes = retention.apply(opened, rules, today)
                counts = {f"{o.rule.table} ({o.rule.reason or o.rule.after})": o.rows for o in outcomes}
                access_log.append(opened, key, cli_actor(), "delete", "retention",
                                  records={"as_of": today.isoformat(), "rows_deleted": counts},
                                  purpose="retention policy", own_transaction=False)
    table = RichTable(title=f"retention as on {today}{' (dry run: nothing deleted)' if dry_run else ''}")
    for heading in ("table", "rule", "older than", "rows"):
        table.add_column(heading, justify="right" if heading == "rows" else "left")
    for outcome in outcomes:
        table.add_row(outcome.rule.table, outcome.rule.reason or f"{outcome.rule.years} years after {outcome.rule.after}",
                      f"{outcome.cutoff:%Y-%m-%d}", str(outcome.rows))
    console.print(table)
    if not dry_run and any(o.rows for o in outcomes) and "://" not in store:
        # Deleted rows must be gone from the file, not only from queries.
        retention.compact_duckdb_file(Path(store))
        console.print(f"{store} rewritten: deleted rows leave nothing in the file")
    elif not dry_run and any(o.rows for o in outcomes):
        with _open(store) as opened:
            retention.compact_postgres(opened, outcomes)
        console.print("tables that lost rows rewritten (VACUUM FULL); old rows may remain in WAL and backups")


@command(log_app, "verify")
def log_verify(
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Check every link of the access log and its signed head; name the first broken entry."""
    settings = _config(config)
    key_path = _key_path(store, key_file, settings)
    key = _read_key(store, key_file, settings) if key_path.exists() else None
    with _open(store) as opened:
        result = access_log.verify(opened, key)
    if key is None:
        console.print(f"note: key file {key_path} not found: the chain is checked, the head's signature is not")
    if not result.ok:
        raise Refused(str(result))
    console.print(str(result))


@command(log_app, "head")
def log_head(store: StoreOption = DEFAULT_STORE) -> None:
    """Print the signed head (sequence:hash:signature): keep copies outside the system."""
    with _open(store) as opened:
        print(access_log.head(opened) or "empty")


@command(log_app, "show")
def log_show(
    limit: Annotated[int, typer.Option(help="The newest N entries.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """The newest access-log entries (pseudonymous references only)."""
    with _open(store) as opened:
        rows = access_log.entries(opened, limit=limit)
    for entry in rows:
        if as_json:
            print(json.dumps({**entry.__dict__, "logged_at": entry.logged_at.isoformat()}))
        else:
            print(f"{entry.seq:>6} {entry.logged_at:%Y-%m-%d %H:%M:%S} {entry.actor} ({entry.role}) "
                  f"{entry.action} {entry.resource} [{entry.outcome}] purpose={entry.purpose} {entry.records or ''}")


@command(app)
def features(
    as_of: Annotated[str, typer.Option("--as-of", help="As-of dates: 2020-01-01,2020-07-01 or a range 2019-01-01:2021-12-01:1m.")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write (one row per officer and as-of date).")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
    engine: EngineOption = None,
) -> None:
    """Leakage-free features as of each date: only what the force knew on that date."""
    from openeis.features import DefinitionError, build_features, parse_as_of

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    try:
        dates = parse_as_of(as_of)
    except ValueError as error:
        raise Refused(str(error)) from None
    if out.suffix != ".parquet":
        raise Refused(f"--out must be a .parquet file, got {out}")
    with _open(store) as opened, _engine(opened, engine) as computing:
        try:
            with _progress() as update:
                summary = build_features(computing, dates, out, settings.features, progress=update)
        except DefinitionError as error:
            raise Refused(f"feature definitions: {error}") from None
        access_log.append(opened, key, cli_actor(), "read", "features",
                          records={"as_of": [str(d) for d in dates], "rows": summary["rows"], "out": str(out),
                                   **({"engine": _without_query(engine)} if engine else {})},
                          purpose="feature build")
    console.print(f"features {summary['path']}: {summary['rows']} rows (officer x as-of date), "
                  f"{summary['columns'] - 2} features, {summary['dates']} as-of date(s)")


@command(app)
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
    import pyarrow.parquet as pq
    from datetime import date as _date

    from openeis.features import DefinitionError, compute_labels, parse_as_of

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    try:
        dates = parse_as_of(as_of)
        known = _date.fromisoformat(known_at) if known_at else None
    except ValueError as error:
        raise Refused(str(error)) from None
    with _open(store) as opened, _engine(opened, engine) as computing:
        try:
            table = compute_labels(computing, dates, label, settings.labels, known)
        except DefinitionError as error:
            raise Refused(f"label definitions: {error}") from None
        access_log.append(opened, key, cli_actor(), "read", "source_records",
                          records={"as_of": [str(d) for d in dates], "rows": table.num_rows, "out": str(out),
                                   **({"engine": _without_query(engine)} if engine else {})},
                          purpose="labels")
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    names = [c for c in table.column_names if c not in ("officer", "as_of")]
    rates = ", ".join(f"{n} {sum(table.column(n).to_pylist())}/{table.num_rows}" for n in names)
    console.print(f"labels {out}: {rates}")


@command(app)
def warehouse(
    out: Annotated[str, typer.Option("--out", help="Directory (or hdfs://, s3a:// path mounted here) to write the warehouse to.")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Copy the tables features and labels read into a Parquet warehouse, for Spark
    (`--engine spark://...?warehouse=DIR`). Pseudonymous records only: never the protected
    characteristics, the quarantine or the access log. The copy is logged as an export."""
    from openeis.store.warehouse import write_warehouse

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:
        require_feature_engine(opened)
        with _progress() as update:
            update("warehouse: writing", 0, 1)
            written = write_warehouse(opened, out)
            update("warehouse: done", 1, 1)
        access_log.append(opened, key, cli_actor(), "export", "warehouse",
                          records={"out": str(out), "rows": sum(written.values()), "tables": len(written)},
                          purpose="warehouse for a Spark engine")
    console.print(f"warehouse {out}: {len(written)} tables, {sum(written.values()):,} rows "
                  "(pseudonymous records; rewrite it after each ingest)")


@command(app)
def splits(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Test dates (as for `backtest`); default: "
                                                 "the dates of the configured plan.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
    config: ConfigOption = None,
) -> None:
    """The temporal split plan: test dates and their training dates (derived from the test
    dates and the store's records unless [splits] sets start and end)."""
    from openeis.features import DefinitionError, parse_as_of, split_plan
    from openeis.models import data

    settings = _config(config)
    label = settings.splits.label
    try:
        dates = parse_as_of(as_of) if as_of else None
        if dates is None and not (settings.splits.start and settings.splits.end):
            raise DefinitionError("the split plan is derived from the test dates and the store's records: "
                                  "give --as-of, or set [splits] start and end")
        if dates is None:
            plan = split_plan(settings.splits, settings.labels)
            dates = [s.test_date for s in plan]
        with _open(store) as opened:  # the label's first record and its maturity on each date
            records_start = data.first_record_date(opened, label, settings)
            maturity = {t: data.label_maturity(opened, label, settings, t) for t in dates}
        plan = split_plan(settings.splits, settings.labels, dates, records_start, maturity)
    except (DefinitionError, ValueError) as error:
        raise Refused(str(error)) from None
    if as_json:
        print(json.dumps([s.as_dict() | {"label_maturity_months": maturity[s.test_date]} for s in plan], indent=1))
        return
    out = RichTable(title=f"split plan (label {label})")
    for heading in ("test date", "training dates", "first", "last", "label maturity (months)",
                    "training labels known at"):
        out.add_column(heading)
    for s in plan:
        out.add_row(s.test_date.isoformat(), str(len(s.train_dates)), s.train_dates[0].isoformat(),
                    s.train_dates[-1].isoformat(), str(maturity[s.test_date]),
                    s.train_labels_known_at.isoformat() if s.train_labels_known_at else "everything")
    console.print(out)


@command(config_app, "show")
def config_show(config: ConfigOption = None) -> None:
    """Print the effective configuration (file values over defaults) as JSON."""
    console.print_json(_config(config).model_dump_json())


@command(config_app, "docs")
def config_docs() -> None:
    """Print the reference of every option and its default (Markdown)."""
    print(config_markdown(), end="")


if __name__ == "__main__":
    # `python -m openeis.cli`: run the imported module's app, where every command is
    # registered; importing the command modules from here would load this file twice.
    from openeis.cli import main as module_main

    module_main()
else:
    import openeis.cli_models  # noqa: E402,F401  (registers train, backtest, models, score, monitor)
    import openeis.cli_detect  # noqa: E402,F401  (registers detect)
    import openeis.cli_web  # noqa: E402,F401  (registers serve and users)
