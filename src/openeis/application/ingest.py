"""Loading a batch, the rows it refused, and what the store holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openeis.application.errors import BatchRefused, Invalid, Refused
from openeis.application.session import Session
from openeis.governance.roles import Action, Resource
from openeis.ingest import IngestFailed, IngestReport, ingest_canonical
from openeis.ingest.canonical import describe_error
from openeis.ingest.validate import ValueLimits
from openeis.privacy import Pseudonymiser

Progress = Callable[[str, int, int], None]


def ingest(session: Session, directory: Path, format: str = "canonical", mapping: Path | None = None,
           quarantine: bool | None = None, progress: Progress | None = None, reload: bool = False,
           changed_at: datetime | None = None) -> IngestReport:
    """Validate, pseudonymise and load a batch, all or nothing; its access-log entry is
    written inside the batch's own transaction. A canonical file the store has already loaded
    unchanged is skipped unless `reload`. `changed_at`: when the force made the changes in
    these files (UTC, not in the future): corrections to records already held take effect
    from then (default: now); the earlier versions are kept."""
    from openeis.adapters import FORMATS, MappingError, ingest_format

    if format != "canonical" and format not in FORMATS:
        raise Invalid(f"unknown format {format!r}: supported: canonical, {', '.join(FORMATS)}")
    session.allow(Action.CHANGE, Resource.INGEST, purpose="ingest")
    use_quarantine = quarantine if quarantine is not None else session.config.ingest.on_error == "quarantine"
    assert session.key is not None

    def log_batch(report: IngestReport) -> None:
        counts = {t.table: {"inserted": t.inserted, "updated": t.updated, "quarantined": t.quarantined}
                  for t in report.tables}
        records: dict = {"batch": report.batch_id, "tables": counts}
        if report.total("corrected"):  # earlier versions kept: from when they stopped holding
            records["corrected"] = report.total("corrected")
        if changed_at:
            records["changed_at"] = changed_at.isoformat()
        session.log(Action.CHANGE, Resource.INGEST, records, "ingest")

    pseudonymiser = Pseudonymiser(session.key)
    limits = ValueLimits(session.config.ingest.earliest_date, session.config.ingest.latest_date)
    from openeis.ingest.identities import sealer_for

    # Every format seals its officers' source identifiers (staff numbers; names only from a
    # canonical officers file when the force asks) in the batch's own transaction.
    identities = sealer_for(session.store, pseudonymiser, session.config.privacy.vault_names)
    try:
        if format == "canonical":
            report = ingest_canonical(session.store, directory, pseudonymiser, quarantine=use_quarantine,
                                      progress=progress, before_commit=log_batch,
                                      memory_limit=session.config.ingest.memory_limit, identities=identities,
                                      limits=limits, reload=reload, changed_at=changed_at)
        else:
            report = ingest_format(session.store, directory, pseudonymiser, format=format, mapping=mapping,
                                   quarantine=use_quarantine, progress=progress, before_commit=log_batch,
                                   identities=identities, limits=limits, changed_at=changed_at)
        if identities is None:
            report.notes.append("this store has no identity vault yet: staff numbers were not sealed "
                                "(`openeis init` on the store makes its vault key)")
        return report
    except MappingError as error:
        raise Invalid(str(error)) from None
    except IngestFailed as failure:
        raise BatchRefused(str(failure), failure.problems, list(getattr(failure, "notes", []))) from None
    except Refused:
        raise
    except Exception as error:  # noqa: BLE001 (an input nobody foresaw is refused too, never a traceback)
        # The batch writes in one transaction, so whatever failed, nothing of it was kept.
        raise BatchRefused(f"{directory}: cannot be loaded: {describe_error(error)}; nothing was written") from error


@dataclass(frozen=True)
class QuarantinedRow:
    batch_id: str
    table: str
    file: str
    line: int
    column: str | None
    value: str | None
    reason: str


def quarantine_rows(session: Session, table: str | None = None, limit: int = 100) -> list[QuarantinedRow]:
    """Rows refused by `ingest --quarantine`, oldest first. Pseudonymous personal data:
    reading them is logged."""
    session.allow(Action.READ, Resource.INGEST, purpose="data quality review")
    where = "WHERE table_name = ?" if table else ""
    with session.transaction():
        rows = session.store.query(
            f"SELECT batch_id, table_name, file_name, line, column_name, value, reason FROM quarantine {where} "
            f"ORDER BY quarantined_at, table_name, line LIMIT {int(limit)}",
            [table] if table else [],
        )
        session.log(Action.READ, Resource.INGEST, {"rows": len(rows), "table": table},
                    "data quality review")
    return [QuarantinedRow(*row) for row in rows]


@dataclass(frozen=True)
class StoreStatus:
    schema_version: int
    rows: dict[str, int]  # table -> rows, in the data model's order, then the quarantine
    batches: list[tuple]  # the latest five: id, format, mode, inserted, updated, unchanged, quarantined


def status(session: Session) -> StoreStatus:
    """Row counts per table, the schema version and the latest batches (aggregates only)."""
    from openeis.schema import TABLES

    session.allow(Action.READ, Resource.AGGREGATES, purpose="store status")
    store = session.store
    with session.transaction():
        rows = {t.qualified_name: int(store.scalar(f"SELECT count(*) FROM {t.qualified_name}")) for t in TABLES}
        rows["quarantine"] = int(store.scalar("SELECT count(*) FROM quarantine"))
        batches = store.query(
            "SELECT batch_id, format, mode, rows_inserted, rows_updated, rows_unchanged, rows_quarantined "
            "FROM ingest_batches ORDER BY started_at DESC LIMIT 5")
        session.log(Action.READ, Resource.AGGREGATES, {"tables": len(rows)}, "store status")
    return StoreStatus(store.schema_version(), rows, batches)
