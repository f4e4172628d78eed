"""The integrity detectors over the period ending on a date: every officer examined, hits
written to the review queue as flags, optionally audited by protected group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from openeis.application.errors import Invalid, Refused, refusing
from openeis.application.models import parse_date
from openeis.application.session import Session
from openeis.governance.roles import Action, Resource

Progress = Callable[[str, int, int], None]


@dataclass
class Detection:
    day: date
    run: Any  # openeis.detectors.DetectorRun
    written: dict | None  # what write_flags reported, if the hits went to the queue
    audit: dict | None  # detector -> hit rates by group, if audited


def detect(session: Session, as_of: str | None = None, write_flags: bool = True, audit: bool = False,
           progress: Progress | None = None) -> Detection:
    """Run every detector force-wide (a reviewer's scope cannot hold a peer comparison); the
    flags and the log entries commit together."""
    from openeis.detectors import run_detectors
    from openeis.detectors import write_flags as write_detector_flags
    from openeis.models import data

    session.allow(Action.READ, Resource.SOURCE_RECORDS, purpose="integrity detectors", force_wide=True)
    if write_flags:
        session.allow(Action.CHANGE, Resource.FLAGS, purpose="integrity detectors", force_wide=True)
    if audit:
        session.allow(Action.READ, Resource.AUDITS, purpose="detector bias audit")
    if session.store.dialect != "duckdb":
        raise Refused("detectors on PostgreSQL: not yet (they run in DuckDB; Spark through the "
                      "scale issue): use a DuckDB store")
    with refusing(Invalid, ValueError):
        day = parse_date(as_of, "--as-of") or data.latest_data_date(session.store)
    run = run_detectors(session.store, session.config.detectors, day, progress)
    written = audited = None
    with session.transaction():
        session.log(Action.READ, Resource.SOURCE_RECORDS,
                    {"as_of": day.isoformat(), "officers_examined": len(run.officers),
                     "detectors": [r.name for r in run.results], "hits": len(run.hits)}, "integrity detectors")
        if write_flags:
            written = write_detector_flags(session.store, run)
            session.log(Action.CHANGE, Resource.FLAGS,
                        {"as_of": day.isoformat(), "source": "detector",
                         "flags": [h.flag(day).flag_id for h in run.hits]}, "integrity detectors")
        if audit:
            from openeis.audit import read_characteristics
            from openeis.detectors.fairness import audit_detectors

            audited = audit_detectors(run, read_characteristics(session.store), session.config.audit)
            session.log(Action.READ, Resource.AUDITS,
                        {"as_of": day.isoformat(), "detectors": sorted(audited),
                         "protected_characteristics": "aggregates only"}, "detector bias audit (aggregates only)")
    return Detection(day, run, written, audited)
