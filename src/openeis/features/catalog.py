"""The built-in feature set (switch off with `[features] default_set = false`)."""

from __future__ import annotations

from openeis.config.features import Aggregation, Derived, FeaturesConfig
from openeis.schema import ABSENCE_KINDS

A = Aggregation
LONG = ["1y", "5y", "all"]


def default_aggregations(windows: list[str]) -> list[Aggregation]:
    return [
        # complaints and allegations
        A(name="complaints", source="allegations", where="first_on_complaint",
          metrics=["count"], windows=windows),
        A(name="complaints", source="allegations", where="first_on_complaint",
          metrics=["days_since"]),
        A(name="allegations", source="allegations", metrics=["count"], windows=windows),
        A(name="allegations", source="allegations", metrics=["days_since"]),
        A(name="allegations", source="allegations", group_by=["category"], total=False,
          windows=LONG),
        # findings: as known on the as-of date (open until decided_at)
        A(name="allegations", source="allegations", group_by=["finding"], total=False,
          windows=["1y", "2y", "5y", "all"]),
        A(name="allegations_upheld", source="allegations", where="finding = 'upheld'",
          metrics=["days_since"]),
        A(name="sanction", source="allegations", group_by=["outcome"], total=False,
          where="outcome IS NOT NULL AND outcome <> 'none'", windows=["5y", "all"]),
        # use of force
        A(name="use_of_force", source="use_of_force", metrics=["count"], windows=windows),
        A(name="use_of_force", source="use_of_force", metrics=["days_since"]),
        A(name="use_of_force", source="use_of_force", group_by=["force_type"], total=False,
          windows=["1y", "all"]),
        A(name="use_of_force_subject_injured", source="use_of_force", where="subject_injured",
          windows=["1y", "5y", "all"]),
        A(name="use_of_force_officer_injured", source="use_of_force", where="officer_injured",
          windows=["1y", "all"]),
        # sickness and absence
        A(name="sickness", source="absences", where="kind = 'sickness'",
          metrics=["days", "spells"], windows=["90d", "1y", "2y"]),
        A(name="absence", source="absences", group_by=["kind"], total=False,
          values={"kind": [k for k in ABSENCE_KINDS if k != "sickness"]},
          metrics=["days"], windows=["1y"]),
        # exposure (duty_periods)
        A(name="duty", source="duty_periods", metrics=["sum"], value="shifts_worked",
          windows=["90d", "1y"]),
        A(name="duty", source="duty_periods", metrics=["sum"], value="hours_on_duty",
          windows=["90d", "1y"]),
        A(name="duty", source="duty_periods", metrics=["sum"], value="arrests",
          windows=["90d", "1y"]),
        A(name="duty", source="duty_periods", metrics=["sum"], value="missed_shifts",
          windows=["1y"]),
        # overtime
        A(name="overtime", source="overtime_claims", metrics=["count", "sum"], value="hours",
          windows=["90d", "1y"]),
        A(name="overtime_rejected", source="overtime_claims", where="status = 'rejected'",
          windows=["1y", "all"]),
        # IT look-ups
        A(name="lookups", source="system_access", windows=["30d", "1y"]),
        A(name="lookups_no_case", source="system_access", where="no_case_reference",
          windows=["30d", "90d", "1y", "all"]),
        A(name="lookups_night", source="system_access", where="night", windows=["30d", "1y"]),
        # other events
        A(name="event", source="other_events", group_by=["event_type"], total=False,
          values={"event_type": ["vehicle_accident", "officer_injury", "pursuit"]},
          # 180d: the window of the department threshold rules (models/rules.py)
          windows=["180d", "1y", "5y", "all"]),
        A(name="vehicle_accident_blameworthy", source="other_events",
          where="event_type = 'vehicle_accident' AND outcome = 'blameworthy'", windows=["5y"]),
        A(name="pursuit_collision", source="other_events",
          where="event_type = 'pursuit' AND outcome = 'collision'", windows=["5y"]),
        # recognition, training, reviews, declarations, swaps, postings
        A(name="commendations", source="commendations", windows=["1y", "5y", "all"]),
        A(name="training_missed", source="training", where="result = 'missed'", windows=["1y", "2y"]),
        A(name="training_failed", source="training", where="result = 'failed'", windows=["2y"]),
        A(name="review", source="performance_reviews", group_by=["rating"], total=False,
          windows=["2y", "all"]),
        A(name="declarations_active", source="declarations", metrics=["spells"], windows=["30d"]),
        A(name="declarations_refused", source="declarations", where="decision = 'refused'",
          windows=["all"]),
        A(name="premium_swaps", source="shift_swaps", where="premium_day", windows=["1y"]),
        A(name="postings", source="postings", windows=["1y", "2y"]),
    ]


def default_derived() -> list[Derived]:
    D = Derived
    out = []
    for stem in ("complaints", "allegations", "use_of_force"):
        # trend: last 6 months minus the 6 months before
        out.append(D(name=f"{stem}_trend",
                     expression=f"{stem}_count_180d - ({stem}_count_1y - {stem}_count_180d)"))
        out.append(D(name=f"{stem}_per_100_shifts_1y",
                     expression=f"100.0 * {stem}_count_1y / NULLIF(duty_shifts_worked_sum_1y, 0)"))
        out.append(D(name=f"{stem}_per_1000_hours_1y",
                     expression=f"1000.0 * {stem}_count_1y / NULLIF(duty_hours_on_duty_sum_1y, 0)"))
    out.append(D(name="use_of_force_per_arrest_1y",
                 expression="1.0 * use_of_force_count_1y / NULLIF(duty_arrests_sum_1y, 0)"))
    out.append(D(name="complaints_per_arrest_1y",
                 expression="1.0 * complaints_count_1y / NULLIF(duty_arrests_sum_1y, 0)"))
    out.append(D(name="upheld_share_all",
                 expression="1.0 * allegations_upheld_count_all / NULLIF(allegations_count_all - allegations_open_count_all, 0)"))
    # Bradford factor over 52 weeks: spells^2 x days
    out.append(D(name="sickness_bradford_1y",
                 expression="sickness_spells_1y * sickness_spells_1y * sickness_days_1y"))
    out.append(D(name="overtime_hours_per_shift_1y",
                 expression="overtime_hours_sum_1y / NULLIF(duty_shifts_worked_sum_1y, 0)"))
    return out


def aggregations(config: FeaturesConfig) -> list[Aggregation]:
    return (default_aggregations(config.windows) if config.default_set else []) + list(config.aggregations)


def derived(config: FeaturesConfig) -> list[Derived]:
    return (default_derived() if config.default_set else []) + list(config.derived)
