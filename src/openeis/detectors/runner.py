"""Run every enabled detector for one as-of date and collect their hits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openeis.detectors import access, attendance, declarations, overtime, rostering
from openeis.detectors.base import Context, Result
from openeis.config.detectors import DetectorsConfig
from openeis.detectors.hits import Hit
from openeis.detectors.period import Period, build_cohort
from openeis.store import Store

# Every detector, in the order they run and are reported. Access detectors share one pass
# of per-officer counts (the `stats` argument).
DETECTORS = (
    "overtime_during_sickness", "overtime_during_leave", "overlapping_overtime",
    "excessive_overtime_hours", "premium_day_swaps", "lookups_without_case_reference",
    "repeated_subject_lookups", "out_of_hours_lookups", "lookups_after_complaint",
    "undeclared_secondary_income", "high_bradford_factor",
)
FAMILY = {
    "overtime_during_sickness": "overtime and duty", "overtime_during_leave": "overtime and duty",
    "overlapping_overtime": "overtime and duty", "excessive_overtime_hours": "overtime and duty",
    "premium_day_swaps": "rostering", "lookups_without_case_reference": "IT access",
    "repeated_subject_lookups": "IT access", "out_of_hours_lookups": "IT access",
    "lookups_after_complaint": "IT access", "undeclared_secondary_income": "declarations",
    "high_bradford_factor": "attendance",
}
ACCESS_DETECTORS = {
    "lookups_without_case_reference": access.without_case_reference,
    "repeated_subject_lookups": access.repeated_subject,
    "out_of_hours_lookups": access.out_of_hours,
    "lookups_after_complaint": access.after_complaint,
}


@dataclass
class DetectorRun:
    period: Period
    officers: list[str]  # the cohort examined (pseudonyms)
    results: list[Result]
    config: DetectorsConfig

    @property
    def hits(self) -> list[Hit]:
        return [h for r in self.results for h in r.hits]

    def as_dict(self) -> dict:
        return {
            "as_of": self.period.as_of.isoformat(),
            "period": {"start": self.period.start.isoformat(), "end": self.period.as_of.isoformat()},
            "officers": len(self.officers),
            "fdr": self.config.fdr,
            "note": "A hit is a prompt for a person to look, never a finding: each lists the "
                    "records behind it.",
            "detectors": [r.summary(self.config.settings(r.name).prompt_kind) | {"family": FAMILY[r.name]}
                          for r in self.results],
            "hits": [h.as_dict() for h in self.hits],
        }


def _run_one(ctx: Context, name: str, stats) -> Result:
    if name in ("overtime_during_sickness", "overtime_during_leave"):
        return overtime.during_absence(ctx, name)
    if name == "overlapping_overtime":
        return overtime.overlapping(ctx)
    if name == "excessive_overtime_hours":
        return overtime.excessive_hours(ctx)
    if name == "premium_day_swaps":
        return rostering.premium_day_swaps(ctx)
    if name in ACCESS_DETECTORS:
        return ACCESS_DETECTORS[name](ctx, stats)
    if name == "undeclared_secondary_income":
        return declarations.undeclared_secondary_income(ctx)
    if name == "high_bradford_factor":
        return attendance.high_bradford_factor(ctx)
    raise ValueError(f"unknown detector {name!r}")


def run_detectors(store: Store, config: DetectorsConfig, as_of: date, progress=None) -> DetectorRun:
    """Every enabled detector over the period ending on `as_of` (DuckDB SQL, set-based)."""
    period = Period.ending(as_of, config)
    build_cohort(store, period, config.min_peer_group)
    officers = [r[0] for r in store.query("SELECT officer FROM det_cohort ORDER BY officer")]
    ctx = Context(store, period, config)
    enabled = [n for n in DETECTORS if config.settings(n).enabled]
    stats = access.access_stats(ctx) if any(n in ACCESS_DETECTORS for n in enabled) else None
    results = []
    for i, name in enumerate(enabled):
        if progress:
            progress(name, i, len(enabled))
        results.append(_run_one(ctx, name, stats))
    for table in ("det_cohort", "det_complaint_windows"):
        store.execute(f"DROP TABLE IF EXISTS {table}")
    return DetectorRun(period, officers, results, config)


def write_flags(store: Store, run: DetectorRun) -> dict:
    """The hits as flags (source `detector`) in the review queue, in one transaction."""
    from openeis.flags.store import replace_flags

    flags = [h.flag(run.period.as_of) for h in run.hits]
    with store.transaction():
        return replace_flags(store, run.period.as_of, None, flags, sources=("detector",))
