"""Typed config sections for models, threshold rules and flags: `[models]`, `[rules]`, `[flags]`."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from openeis.health import is_health_feature


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThresholdRule(_Model):
    """A department threshold rule: the sum of some features at or above a threshold."""

    name: str = Field(description="Rule name (lower_snake_case).")
    description: str = Field(description="Plain sentence shown to reviewers, e.g. "
                             "'3 or more uses of force in 90 days'.")
    features: list[str] = Field(description="Feature columns summed (one for a simple rule).")
    at_least: float = Field(description="The rule fires when the sum is at or above this.")
    queue: Literal["conduct", "welfare"] | None = Field(
        None, description="The review queue its flags go to. Default: welfare when any of its features "
        "is built from sickness absence (health data, for a line manager or occupational health), "
        "else conduct.")

    @property
    def review_queue(self) -> str:
        if self.queue:
            return self.queue
        return "welfare" if any(is_health_feature(f) for f in self.features) else "conduct"


def default_rules() -> list[ThresholdRule]:
    """The rule set US departments used, as encoded by the University of Chicago police EIS."""
    R = ThresholdRule
    events_180d = ["use_of_force_count_180d", "complaints_count_180d",
                   "event_vehicle_accident_count_180d", "event_officer_injury_count_180d",
                   "event_pursuit_count_180d"]
    return [
        R(name="use_of_force_3_in_90d", description="3 or more uses of force in 90 days",
          features=["use_of_force_count_90d"], at_least=3),
        R(name="complaints_3_in_180d", description="3 or more complaints in 180 days",
          features=["complaints_count_180d"], at_least=3),
        R(name="vehicle_accidents_2_in_180d", description="2 or more vehicle accidents in 180 days",
          features=["event_vehicle_accident_count_180d"], at_least=2),
        R(name="injuries_2_in_180d", description="2 or more officer injuries in 180 days",
          features=["event_officer_injury_count_180d"], at_least=2),
        R(name="pursuits_2_in_180d", description="2 or more pursuits in 180 days",
          features=["event_pursuit_count_180d"], at_least=2),
        R(name="sick_days_3_in_90d", description="3 or more sick days in 90 days",
          features=["sickness_days_90d"], at_least=3),
        # Sickness is counted in days, not events, so it is left out of the combined rule.
        R(name="any_5_in_180d", description="5 or more of these events in 180 days: uses of "
          "force, complaints, vehicle accidents, injuries, pursuits", features=events_180d, at_least=5),
    ]


class RulesConfig(_Model):
    rules: list[ThresholdRule] = Field(
        default_factory=default_rules,
        description="Department threshold rules: a baseline the models must beat and live "
        "detectors next to them. Default: the University of Chicago police EIS encoding "
        "(use of force >= 3 in 90 days; complaints >= 3 in 180 days; vehicle accidents, "
        "injuries, pursuits >= 2 in 180 days; sick days >= 3 in 90 days; any 5 events in 180 "
        "days). In TOML: [[rules.rules]] name = ..., description = ..., features = [...], at_least = ...",
    )


class ModelsConfig(_Model):
    logistic_c: list[float] = Field([], description="Grid: inverse regularisation strengths of the "
                                    "L2 logistic regression (none by default: on every Chicago and "
                                    "synthetic test date measured it ranked worse than LightGBM, by up "
                                    "to 0.09 AUC where the data drift; docs/models.md).")
    lightgbm: list[dict] = Field(
        default_factory=lambda: [
            {"num_leaves": 4, "n_estimators": 200, "learning_rate": 0.05, "min_child_samples": 100,
             "colsample_bytree": 0.5, "max_bin": 63},
            {"num_leaves": 7, "n_estimators": 150, "learning_rate": 0.05, "min_child_samples": 50,
             "colsample_bytree": 0.5, "max_bin": 63},
        ],
        description="Grid: LightGBM parameter sets (LGBMClassifier keyword arguments).",
    )
    validation_dates: int = Field(2, ge=1, description="Model selection: how many of the latest "
                                  "training as-of dates are used, in turn, as validation folds "
                                  "(each trained on the dates whose label window closed before it).")
    selection_measure: Literal["average_precision", "auc", "precision_top_1_5"] = Field(
        "average_precision", description="Model selection compares candidates (and the baselines) "
        "on this measure on each validation fold: average precision, ROC AUC, or the mean "
        "precision over the top 1, 2, 3, 4 and 5% of the ranking.")
    selection: Literal["mean", "stable"] = Field(
        "stable", description="`mean`: the best mean of `selection_measure` over the folds. "
        "`stable`: among candidates within one standard error of the best mean, the one whose "
        "measure varies least across folds.")
    calibration_folds: int = Field(3, ge=2, description="The Platt calibration is fitted on the "
                                   "selected model's out-of-time scores on the validation dates; only "
                                   "without validation dates, on refits over this many folds by as-of date.")
    max_train_rows: int = Field(2_000_000, ge=1000, description="Subsample training rows above "
                                "this (seeded), to bound memory and time.")
    stream_above_rows: int = Field(500_000, ge=1000, description="`openeis train` and `backtest` on "
                                   "more training rows than this stream the feature file into LightGBM "
                                   "instead of loading it (LightGBM keeps ~600 bytes a row; a loaded "
                                   "frame and its matrix, several KB).")
    streamed_logistic_rows: int = Field(200_000, ge=1000, description="When training is streamed, "
                                        "logistic candidates (which need the matrix in memory) are "
                                        "fitted on a seeded sample of this many rows.")
    seed: int = Field(1, description="Random seed for every model and subsample.")
    threads: int | None = Field(None, ge=1, description="Threads LightGBM may use (default: the CPUs "
                                "this process may use, by affinity and cgroup quota; never more).")


class FlagsConfig(_Model):
    top_percent: float = Field(2.0, gt=0, le=100, description="Review capacity per period as a "
                               "percent of the cohort (used unless top_n is set).")
    top_n: int | None = Field(None, ge=1, description="Review capacity per period as a number of "
                              "officers (overrides top_percent).")
    explanation_factors: int = Field(4, ge=1, le=10, description="Factors in each flag's explanation.")
    peer_min_size: int = Field(5, ge=2, description="Smallest peer group (same unit and role) "
                               "whose median an explanation quotes; below it, the whole cohort's.")

    def capacity(self, cohort: int) -> int:
        if self.top_n:
            return min(self.top_n, cohort)
        return min(cohort, max(1, math.ceil(cohort * self.top_percent / 100)))
