"""Feature, label and split definitions: the typed config sections `[features]`, `[labels]`
and `[splits]` of openeis.toml.

A feature *aggregation* is the unit of definition (triage's feature_aggregations, extended):

    source x where x group_by (one feature per code) x metrics x windows

plus *derived* features (expressions over other features: rates, trends, the Bradford
factor) and *peer* comparisons. The built-in default set lives in catalog.py; the config can
switch it off, add aggregations of its own and change windows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

WINDOW_DAYS: dict[str, int | None] = {
    "30d": 30,
    "90d": 90,
    "180d": 180,
    "1y": 365,
    "2y": 730,
    "5y": 1826,
    "all": None,
}

Metric = Literal["count", "sum", "days", "spells", "days_since"]


def window_days(name: str) -> int | None:
    """'90d' -> 90, '1y' -> 365, 'all' -> None (no lower bound)."""
    if name in WINDOW_DAYS:
        return WINDOW_DAYS[name]
    if name.endswith("d") and name[:-1].isdigit():
        return int(name[:-1])
    if name.endswith("y") and name[:-1].isdigit():
        return int(round(int(name[:-1]) * 365.25))
    if name.endswith("m") and name[:-1].isdigit():
        return int(round(int(name[:-1]) * 30.44))
    raise ValueError(f"unknown window {name!r}: use Nd, Nm, Ny or all")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Aggregation(_Model):
    """One line of feature definitions; expands to |groups| x |metrics| x |windows| columns."""

    name: str = Field(description="Prefix of the feature names (lower_snake_case).")
    source: str = Field(description="Event source (see docs/features.md): a canonical table, "
                        "or `complaints` (an officer's distinct complaints).")
    where: str | None = Field(None, description="SQL condition on the source's columns.")
    group_by: list[str] = Field(default_factory=list, description="Columns to split by: one "
                                "feature per known code (plus the total unless `total=false`).")
    values: dict[str, list[str]] = Field(default_factory=dict, description="Codes to use for a "
                                         "group_by column without a code list in the schema.")
    total: bool = Field(True, description="Also emit the feature over all groups.")
    metrics: list[Metric] = Field(default_factory=lambda: list[Metric](["count"]), description="count, "
                                  "sum (of `value`), days / spells (spans), days_since.")
    value: str | None = Field(None, description="Column summed by the `sum` metric.")
    windows: list[str] = Field(default_factory=lambda: ["1y", "all"], description="Windows.")

    @field_validator("name")
    @classmethod
    def _snake(cls, name: str) -> str:
        if not name.replace("_", "").isalnum() or not name[0].isalpha() or name.lower() != name:
            raise ValueError(f"feature prefix {name!r} must be lower_snake_case")
        return name

    @field_validator("windows")
    @classmethod
    def _windows(cls, windows: list[str]) -> list[str]:
        for w in windows:
            window_days(w)
        return windows


class Derived(_Model):
    name: str = Field(description="Feature name.")
    expression: str = Field(description="SQL expression over other feature names.")


class FeaturesConfig(_Model):
    default_set: bool = Field(True, description="Compute the built-in feature set (docs/features.md).")
    windows: list[str] = Field(
        default_factory=lambda: ["30d", "90d", "180d", "1y", "2y", "5y", "all"],
        description="Windows of the main event counts in the built-in set.",
    )
    aggregations: list[Aggregation] = Field(
        default_factory=list, description="Extra aggregations (see docs/features.md)."
    )
    derived: list[Derived] = Field(default_factory=list, description="Extra derived features.")
    peer_features: list[str] = Field(
        default_factory=lambda: [
            "allegations_count_1y", "use_of_force_count_1y", "complaints_count_1y",
            "sickness_days_1y", "lookups_no_case_count_1y",
        ],
        description="Features compared with peers (same unit and role on the as-of date).",
    )
    peer_exposure: str = Field(
        "duty_shifts_worked_sum_1y",
        description="Exposure for the Poisson exceedance score of peer features.",
    )
    peer_min_size: int = Field(5, ge=2, description="Smallest peer group compared with.")
    network_years: int = Field(5, ge=1, description="Co-accused network: complaints in the last N years.")
    officer_batches: int = Field(
        0, ge=0, description="Split officers into this many batches (one pass each) to bound "
        "memory; 0 = automatic from the store's size.",
    )
    running_sums: Literal["client", "sql"] = Field(
        "client", description="Where running sums over the as-of dates are taken: `client` "
        "(numpy, fast) or `sql` (window functions: the portable formulation, slower on DuckDB).",
    )
    memory_limit: str = Field("6GB", description="DuckDB memory limit while building features.")


class LabelDefinition(_Model):
    name: str = Field(description="Label column name.")
    source: str = Field("allegations", description="Event source the label counts.")
    where: str | None = Field(None, description="SQL condition on the source's columns.")
    window_months: int = Field(12, ge=1, description="Label window [as_of, as_of + N months).")
    on: str = Field("recorded_at", description="Time the window is measured on: occurred_at, "
                    "recorded_at, or complaint_recorded_at (allegations).")
    any_of: list[str] = Field(default_factory=list, description="Instead of a source: 1 if any "
                              "of these labels is 1.")


def _default_labels() -> list[LabelDefinition]:
    return [
        LabelDefinition(name="sustained_12m", source="allegations", where="finding = 'upheld'",
                        on="complaint_recorded_at"),
        LabelDefinition(name="complaint_12m", source="allegations", on="complaint_recorded_at"),
        LabelDefinition(name="force_injury_12m", source="use_of_force", where="subject_injured",
                        on="occurred_at"),
        LabelDefinition(name="sustained_or_force_injury_12m",
                        any_of=["sustained_12m", "force_injury_12m"]),
    ]


class LabelsConfig(_Model):
    definitions: list[LabelDefinition] = Field(
        default_factory=list,
        description="Labels added to (or replacing, by name) the built-in ones: sustained_12m, "
        "complaint_12m, force_injury_12m, sustained_or_force_injury_12m (docs/features.md).",
    )
    default: str = Field("sustained_12m", description="Label used when none is named.")


class SplitsConfig(_Model):
    start: str | None = Field(None, description="First as-of date of the plan. Default: "
                              "derived for each test date, `lookback_years` before it (and no "
                              "earlier than a year after the first record the label counts).")
    end: str | None = Field(None, description="Last as-of date of the plan (inclusive). Default: "
                            "derived for each test date, the latest date whose label has matured.")
    frequency_months: int = Field(12, ge=1, description="Months between as-of dates (a derived "
                                  "plan counts them back from the test date). The default, the label "
                                  "window, makes each officer's outcome windows tile time: every "
                                  "outcome is counted once.")
    lookback_years: int = Field(8, ge=1, description="Without `start`: training dates go back "
                                "this many years before the test date.")
    label_maturity_months: int | None = Field(
        None, ge=0, description="Months a training date's label window must have been closed by "
        "the test date before the date is trained on: findings take months to be decided, and a "
        "label read before they are makes recent complainants look clean (docs/models.md). "
        "Default: measured on each test date, the median time from the outcome being recorded "
        "to being decided among the outcomes decided by then (over `lookback_years`), rounded "
        "up to whole steps of `frequency_months`; 0 for a label with no decision.")
    label: str = Field("sustained_12m", description="Label whose window decides which "
                       "training dates a test date may use.")
    first_test: str | None = Field(None, description="First test date; default: the first "
                                   "date with at least `min_train_dates` training dates.")
    min_train_dates: int = Field(2, ge=1, description="Smallest number of training as-of dates.")
    max_train_dates: int = Field(0, ge=0, description="Keep only the latest N training dates "
                                 "(0: all).")
    known_at_test_date: bool = Field(True, description="Training labels computed from what was "
                                     "known on the test date (decisions made later not yet known). "
                                     "`false` takes them as the store knows them now: hindsight a "
                                     "force never has, for comparison only.")
