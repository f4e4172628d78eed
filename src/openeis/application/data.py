"""Features and labels as of any dates, written to files, and the Parquet warehouse Spark
computes them on. Each is a force-wide export of pseudonymous personal data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openeis.application.errors import Invalid, Refused, refusing
from openeis.application.session import Session, require_feature_engine
from openeis.governance.roles import Action, Resource
from openeis.store import Store, StoreError, open_store

Progress = Callable[[str, int, int], None]


def without_query(url: str) -> str:
    """An engine URL as logged: settings (which may hold credentials) left out."""
    return url.split("?", 1)[0]


@contextmanager
def computing_store(session: Session, engine: str | None) -> Iterator[Store]:
    """The store features and labels are computed on: the session's store itself, or a Spark
    warehouse given by `engine` (while the access-log entry goes to the session's store)."""
    require_feature_engine(session.store)
    if not engine:
        yield session.store
        return
    if not engine.startswith("spark://"):
        raise Invalid(f"--engine {engine}: only spark:// engines (docs/scale.md); "
                      "for DuckDB or PostgreSQL pass the store itself with --store")
    try:
        computing = open_store(engine)
    except (StoreError, ImportError) as error:
        raise Refused(f"--engine {without_query(engine)}: {error}") from None
    try:
        yield computing
    finally:
        computing.close()


def parse_dates(as_of: str) -> list[date]:
    from openeis.features import parse_as_of

    with refusing(Invalid, ValueError):
        return parse_as_of(as_of)


def _engine_note(engine: str | None) -> dict:
    return {"engine": without_query(engine)} if engine else {}


def _removed_on_failure(*paths: Path):
    """Files an export wrote are deleted again when its access-log entry cannot be written:
    an export exists only if the log says so."""
    @contextmanager
    def guard():
        try:
            yield
        except BaseException:
            for path in paths:
                Path(path).unlink(missing_ok=True)
            raise
    return guard()


def export_features(session: Session, as_of: str, out: Path, engine: str | None = None,
                    progress: Progress | None = None) -> dict:
    """Leakage-free features as of each date, to a Parquet file (one row per officer and date)."""
    from openeis.features import DefinitionError, build_features

    dates = parse_dates(as_of)
    if out.suffix != ".parquet":
        raise Invalid(f"--out must be a .parquet file, got {out}")
    session.allow(Action.EXPORT, Resource.FEATURES, purpose="feature build", force_wide=True)
    with computing_store(session, engine) as computing:
        try:
            summary = build_features(computing, dates, out, session.config.features, progress=progress)
        except DefinitionError as error:
            raise Invalid(f"feature definitions: {error}") from None
        with _removed_on_failure(out):
            session.log(Action.EXPORT, Resource.FEATURES,
                        {"as_of": [str(d) for d in dates], "rows": summary["rows"], "out": str(out),
                         **_engine_note(engine)}, "feature build")
    return summary


@dataclass
class LabelsExport:
    out: Path
    rows: int
    positives: dict[str, int]  # label -> positive rows


def export_labels(session: Session, as_of: str, out: Path, names: list[str] | None = None,
                  known_at: str | None = None, engine: str | None = None) -> LabelsExport:
    """Labels (what followed each as-of date), as known at a date, to a Parquet file."""
    import pyarrow.parquet as pq

    from openeis.features import DefinitionError, compute_labels

    dates = parse_dates(as_of)
    with refusing(Invalid, ValueError):
        known = date.fromisoformat(known_at) if known_at else None
    session.allow(Action.EXPORT, Resource.SOURCE_RECORDS, purpose="labels", force_wide=True)
    with computing_store(session, engine) as computing:
        try:
            table = compute_labels(computing, dates, names, session.config.labels, known)
        except DefinitionError as error:
            raise Invalid(f"label definitions: {error}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        with session.transaction(), _removed_on_failure(out):
            pq.write_table(table, out)
            session.log(Action.EXPORT, Resource.SOURCE_RECORDS,
                        {"as_of": [str(d) for d in dates], "rows": table.num_rows, "out": str(out),
                         **_engine_note(engine)}, "labels")
    label_names = [c for c in table.column_names if c not in ("officer", "as_of")]
    return LabelsExport(out, table.num_rows, {n: sum(table.column(n).to_pylist()) for n in label_names})


def export_warehouse(session: Session, out: str, progress: Progress | None = None) -> dict[str, int]:
    """Copy the tables features and labels read into a Parquet warehouse for Spark:
    pseudonymous records only (never the protected characteristics, the quarantine or the
    access log). Returns rows per table."""
    from openeis.store.warehouse import write_warehouse

    require_feature_engine(session.store)
    session.allow(Action.EXPORT, Resource.SOURCE_RECORDS, purpose="warehouse for a Spark engine",
                  force_wide=True)
    if progress:
        progress("warehouse: writing", 0, 1)
    written = write_warehouse(session.store, out)
    if progress:
        progress("warehouse: done", 1, 1)
    session.log(Action.EXPORT, Resource.SOURCE_RECORDS,
                {"out": str(out), "rows": sum(written.values()), "tables": len(written), "warehouse": True},
                "warehouse for a Spark engine")
    return written


@dataclass
class SplitPlan:
    label: str
    splits: list  # features.splits.Split, one per test date with enough training dates
    maturity: dict[date, int]  # test date -> months a training label must have matured by it


def split_plan(session: Session, as_of: str | None = None) -> SplitPlan:
    """The temporal split plan: for each test date its training dates, derived from the test
    dates (default: those of the configured plan) and the span of the store's records, each
    training label matured by the test date. Reads dates and medians of the records only."""
    from openeis.features import DefinitionError
    from openeis.features import split_plan as plan_for
    from openeis.models import data

    config = session.config
    label = config.splits.label
    with refusing(Invalid, DefinitionError):
        dates = parse_dates(as_of) if as_of else [s.test_date for s in plan_for(config.splits, config.labels)]
    session.allow(Action.READ, Resource.AGGREGATES, purpose="split plan")
    require_feature_engine(session.store)
    with session.transaction():
        records_start = data.first_record_date(session.store, label, config)
        maturity = {t: data.label_maturity(session.store, label, config, t) for t in dates}
        with refusing(Invalid, DefinitionError, ValueError):
            splits = plan_for(config.splits, config.labels, dates, records_start, maturity)
        session.log(Action.READ, Resource.AGGREGATES, {"as_of": [str(d) for d in dates], "label": label},
                    "split plan")
    return SplitPlan(label, splits, maturity)
