"""What counts as health data, so that it stays out of conduct reviews.

Sickness absence (its dates, its reason, the Bradford factor made from it) is special-category
data: it may prompt a welfare conversation with a line manager or occupational health, never a
misconduct review. Features and rules built on it go to the welfare queue; a model flag's
factors built on it are not shown in a conduct review (their contribution is counted, not
named); absence records read in a conduct review say only that the officer was unfit for duty.
"""

from __future__ import annotations

# Features made from sickness absence (and restricted duty, which is usually medical), with
# their peer-relative and trend variants, which share the prefix.
HEALTH_FEATURE_PREFIXES = ("sickness_", "absence_restricted_duty_")
# Absence kinds that are health data, and what a conduct review reads instead.
HEALTH_ABSENCE_KINDS = {"sickness": "unfit for duty", "restricted_duty": "restricted duty"}
# Columns that are health data wherever they are read in a conduct review.
HEALTH_COLUMNS = {"absences": ("reason",)}


def is_health_feature(name: str) -> bool:
    return name.startswith(HEALTH_FEATURE_PREFIXES)


def conduct_absence_kind(kind: str | None) -> str | None:
    """An absence kind as a conduct review may read it."""
    return HEALTH_ABSENCE_KINDS.get(kind or "", kind)


# Detectors whose internal name says what a conduct review must not: the name a reader sees.
DETECTOR_LABELS = {"overtime_during_sickness": "overtime during absence (unfit for duty)",
                   "high_bradford_factor": "attendance (Bradford factor)"}


def detector_label(name: str | None) -> str:
    return DETECTOR_LABELS.get(name or "", (name or "").replace("_", " "))
