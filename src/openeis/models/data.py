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
from openeis.features.dates import add_months, month_range
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


def plan_dates(config: OpenEISConfig) -> list[date]:
    s = config.splits
    return month_range(date.fromisoformat(s.start), date.fromisoformat(s.end), s.frequency_months)


def training_dates(config: OpenEISConfig, test_date: date, label: str) -> list[date]:
    """Plan dates whose label window has closed by `test_date` (only those can be learnt from)."""
    window = label_window_months(label, config.labels)
    dates = [d for d in plan_dates(config) if add_months(d, window) <= test_date]
    if config.splits.max_train_dates:
        dates = dates[-config.splits.max_train_dates:]
    return dates


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
