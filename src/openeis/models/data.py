"""Feature and label frames for training, backtests and scoring, read from the store."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openeis import thread_pools
from openeis.config import OpenEISConfig
from openeis.features import build_features, compute_labels
from openeis.features import splits
from openeis.features.dates import add_months
from openeis.features.labels import label_window_months
from openeis.schema import TABLES
from openeis.store import Store

KEYS = ["officer", "as_of"]


def feature_frame(store: Store, dates: list[date], config: OpenEISConfig, progress=None,
                  features: Path | None = None) -> pd.DataFrame:
    """The feature table for these as-of dates: built now (one build for all of them), or
    read from `features`, a feature file built earlier (`openeis features`, e.g. a nightly
    build of every month; refused as `check_feature_file` says)."""
    if features is not None:
        return features_of_dates(check_feature_file(store, features, dates), dates)
    with tempfile.TemporaryDirectory(prefix="openeis-model-") as tmp:
        path = Path(tmp) / "features.parquet"
        build_features(store, sorted(set(dates)), path, config.features, progress=progress)
        return _frame_of(pq.read_table(path))


def check_feature_file(store: Store, path: Path, dates: list[date]) -> Path:
    """A feature file built earlier, refused when it lacks one of the dates, or when the store
    took an ingest after the file was written: its features would not show the newer records."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"feature file {path} does not exist")
    written = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(tzinfo=None)
    last_ingest = store.scalar("SELECT max(finished_at) FROM ingest_batches")
    if last_ingest is not None and last_ingest > written:
        raise ValueError(f"feature file {path} was written at {written:%Y-%m-%d %H:%M} UTC, before the "
                         f"store's last ingest ({last_ingest:%Y-%m-%d %H:%M} UTC): build it again with "
                         "`openeis features`, or run without --features")
    held = set(file_dates(path))
    missing = sorted(set(dates) - held)
    if missing:
        shown = ", ".join(d.isoformat() for d in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(f"feature file {path} has no rows as of {shown}: build it with "
                         f"{'that date' if len(missing) == 1 else 'those dates'} in --as-of")
    return path


def file_dates(path: Path) -> list[date]:
    """The as-of dates a feature file holds."""
    column = pq.read_table(path, columns=["as_of"]).column("as_of")
    return sorted(pd.to_datetime(pc.unique(column).to_pandas()).dt.date)


def features_of_dates(path: Path, dates: list[date]) -> pd.DataFrame:
    """These dates' rows of a feature file, as a frame."""
    return _frame_of(pq.read_table(path, filters=[("as_of", "in", sorted(set(dates)))]))


def _frame_of(table: pa.Table) -> pd.DataFrame:
    """A feature table as pandas, ordered by officer and date. Converted column by column,
    freeing the Arrow buffers as it goes: half the peak of a plain to_pandas on a national
    training frame."""
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    pa.default_memory_pool().release_unused()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


def training_file(store: Store, dates: list[date], labels: pd.DataFrame, label: str, config: OpenEISConfig,
                  directory: Path, progress=None, features: Path | None = None) -> Path:
    """The dates' features joined with their labels (as `with_labels` does), written as one
    Parquet file ordered by as-of date, then officer, without loading it: each date is a
    contiguous range of rows, and a streamed training reads it a row group at a time.
    `features`: a feature file holding these dates (and maybe others), built earlier."""
    import duckdb

    built = features is None
    if built:
        features = directory / "features.parquet"
        build_features(store, sorted(set(dates)), features, config.features, progress=progress)
    out = directory / "training.parquet"
    con = duckdb.connect(config=thread_pools.duckdb_config())  # in-process: the rows never go to a server
    try:
        con.execute(f"SET memory_limit = '{config.features.memory_limit}'")
        con.execute(f"SET temp_directory = '{directory / 'spill'}'")
        con.register("labels", labels[KEYS + [label]])
        # the inner join keeps only the labelled dates of a file that holds more
        con.execute(
            f"COPY (SELECT f.*, coalesce(l.{label}, 0)::INTEGER AS {label} "
            f"FROM read_parquet('{features}') f JOIN labels l "
            f"ON f.officer = l.officer AND CAST(f.as_of AS DATE) = CAST(l.as_of AS DATE) "
            f"ORDER BY f.as_of, f.officer) TO '{out}' (FORMAT parquet, ROW_GROUP_SIZE {TRAINING_ROW_GROUP})"
        )
    finally:
        con.close()
    if built:
        features.unlink()
    return out


TRAINING_ROW_GROUP = 100_000  # rows LightGBM reads at a time from a training file


def label_frame(store: Store, dates: list[date], label: str, config: OpenEISConfig,
                known_at: date | None) -> pd.DataFrame:
    frame = compute_labels(store, sorted(set(dates)), [label], config.labels, known_at).to_pandas()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame


def with_labels(features: pd.DataFrame, labels: pd.DataFrame, label: str) -> pd.DataFrame:
    """Features of the dates that have labels, with the label column (0 where missing)."""
    joined = features.merge(labels[KEYS + [label]], on=KEYS, how="inner")
    joined[label] = joined[label].fillna(0).astype(int)
    return joined


def training_dates(config: OpenEISConfig, test_date: date, label: str, records_start: date | None = None,
                   maturity_months: int | None = None) -> list[date]:
    """The as-of dates a model for `test_date` trains on: those whose label has matured by
    then (features/splits.py). `records_start` (`first_record_date`) bounds a derived plan;
    `maturity_months` (`label_maturity`) is the label's maturity on the date."""
    return splits.training_dates(test_date, config.splits, label_window_months(label, config.labels),
                                 records_start, maturity_months)


def label_maturity(store: Store, label: str, config: OpenEISConfig, test_date: date) -> int:
    """Months a training date's label window must have been closed by `test_date`:
    `[splits] label_maturity_months`, or the median time from an outcome of the label being
    recorded to being decided, among those decided by `test_date` and recorded in the
    `lookback_years` before it, rounded up to whole steps of the plan. 0 for a label with no
    decision (it is known as soon as it is recorded)."""
    if config.splits.label_maturity_months is not None:
        return config.splits.label_maturity_months
    return splits.maturity_steps(decision_months(store, label, config, test_date), config.splits)


def decision_months(store: Store, label: str, config: OpenEISConfig, test_date: date) -> float:
    """Median months from the label's outcome being recorded (its `on` time) to being decided,
    as the store knew it on `test_date` (the leakage rules' own source relation)."""
    from openeis.features.compile import _phase_for
    from openeis.features.dates import day_number
    from openeis.features.engine import query_arrow
    from openeis.features.labels import ON_COLUMNS, label_definitions
    from openeis.features.sources import source, source_sql

    definition = label_definitions(config.labels)[label]
    if definition.any_of:
        return max(decision_months(store, name, config, test_date) for name in definition.any_of)
    src = source(definition.source)
    if _phase_for(src, definition.where) != "state":
        return 0.0  # the label reads no decision
    on, today = ON_COLUMNS[definition.on], day_number(test_date)
    since = day_number(add_months(test_date, -12 * config.splits.lookback_years))
    sql = (f"SELECT median(s.vis_day - s.{on}) FROM ({source_sql(src, 'state')}) s "
           f"WHERE s.phase = 'decided' AND s.vis_day <= {today} AND s.{on} >= {since} AND s.{on} < {today}"
           + (f" AND ({definition.where})" if definition.where else ""))
    days = query_arrow(store, sql).column(0)[0].as_py()
    return 0.0 if days is None else float(days) / 30.44


def training_labels_known_at(config: OpenEISConfig, test_date: date) -> date | None:
    """Training labels as known on the test date, or (`known_at_test_date = false`, for
    comparison only) as the store knows them now."""
    return test_date if config.splits.known_at_test_date else None


def plan_description(config: OpenEISConfig, label: str) -> str:
    """The split plan in words, for messages."""
    s = config.splits
    window = label_window_months(label, config.labels)
    dates = (f"plan {s.start}..{s.end}" if s.start and s.end else
             f"from {s.start}" if s.start else f"up to {s.end}" if s.end else
             f"derived: {s.lookback_years} years back")
    maturity = ("the label's maturity (months)" if s.label_maturity_months is None
                else f"{s.label_maturity_months} months")
    return (f"{dates} every {s.frequency_months} months; a date's {window}-month label window must have "
            f"closed {maturity} before the test date")


def first_record_date(store: Store, label: str, config: OpenEISConfig) -> date | None:
    """The first day of the month of the first record the label counts (its source table's
    earliest `recorded_at`): the outcome's own history begins there, whatever older roster
    or posting entries the store holds."""
    from openeis.features.labels import label_definitions
    from openeis.features.sources import source

    definitions = label_definitions(config.labels)

    def tables(name: str) -> set[str]:
        d = definitions[name]
        return set().union(*(tables(n) for n in d.any_of)) if d.any_of else {source(d.source).table}

    days = []
    for table in sorted(tables(label)):
        value = store.scalar(f"SELECT min(recorded_at) FROM {table}")
        if value is not None:
            days.append(value.date() if isinstance(value, datetime) else value)
    return min(days).replace(day=1) if days else None


def latest_data_date(store: Store) -> date:
    """The last day anything in the store was recorded: the default 'today' for training and scoring."""
    days = []
    for t in TABLES:
        if t.restricted or not any(c.name == "recorded_at" for c in t.columns):
            continue
        value = store.scalar(f"SELECT max(recorded_at) FROM {t.qualified_name}")
        if value is not None:
            days.append(value.date() if isinstance(value, datetime) else value)
    if not days:
        raise ValueError("the store holds no records yet: ingest first")
    return max(days)


def data_snapshot_hash(store: Store) -> str:
    """Identifies the data a model was trained on: row counts and the latest record time per
    table plus the ingest batches (not content: the hash says *which* snapshot, not what is in it)."""
    parts = []
    for t in TABLES:
        has_recorded = any(c.name == "recorded_at" for c in t.columns)
        row = store.query(f"SELECT count(*){', max(recorded_at)' if has_recorded else ''} "
                          f"FROM {t.qualified_name}")[0]
        parts.append(f"{t.name}:{row[0]}:{row[1] if has_recorded else ''}")
    batches = store.query("SELECT batch_id FROM ingest_batches ORDER BY batch_id")
    parts.append("batches:" + ",".join(b[0] for b in batches))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
