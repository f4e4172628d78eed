"""The `[audit]` config section: what the bias audit compares and how it judges.

Kept free of the audit's numerical code so that openeis.config can import it cheaply.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Group metrics the audit computes, in report order. `prevalence` is the label rate itself
# (the label-bias check); the others describe the flags.
METRICS = ("prevalence", "flag_rate", "precision", "fpr", "fnr", "fdr", "for", "tpr")
Metric = Literal["prevalence", "flag_rate", "precision", "fpr", "fnr", "fdr", "for", "tpr"]

# Attributes that can be audited: the columns of restricted.officer_characteristics that
# hold a characteristic, and age_band (derived from birth_year on the as-of date).
AUDITABLE = ("ethnicity", "gender", "age_band", "disability", "religion", "sexual_orientation")

# Separator of an intersection's name and values: "ethnicity+gender", group "B+F".
INTERSECTION_SEPARATOR = "+"


class AuditConfig(BaseModel):
    """Bias audit settings (section `[audit]`)."""

    model_config = ConfigDict(extra="forbid")

    attributes: list[str] = Field(
        default_factory=lambda: ["ethnicity", "gender", "age_band"],
        description="Protected characteristics audited one at a time. Any of ethnicity, "
        "gender, age_band (from birth_year on the as-of date), disability, religion, "
        "sexual_orientation.",
    )
    intersections: list[list[str]] = Field(
        default_factory=lambda: [["ethnicity", "gender"]],
        description="Combinations audited as one attribute, e.g. [[\"ethnicity\", \"gender\"]] "
        "gives groups like B+F (attribute name ethnicity+gender).",
    )
    reference: Literal["largest", "best", "named"] = Field(
        "largest",
        description="Reference group each group is compared with: `largest` (most rows), "
        "`best` (the best value of each metric among groups big enough for a verdict: lowest "
        "for rates of flags, errors and the label, highest for precision and TPR), or `named` "
        "(reference_groups; attributes not named there use the largest).",
    )
    reference_groups: dict[str, str] = Field(
        default_factory=dict,
        description="Named reference group per attribute, used when reference = \"named\", "
        "e.g. {ethnicity = \"A\", gender = \"M\", \"ethnicity+gender\" = \"A+M\"}.",
    )
    band: tuple[float, float] = Field(
        (0.8, 1.25),
        description="Fairness band for disparity ratios (group / reference): a ratio inside "
        "[low, high] is within band (the aequitas convention 0.8 to 1.25).",
    )
    gate_metrics: list[Metric] = Field(
        default_factory=lambda: list[Metric](["flag_rate", "fpr"]),
        description="Metrics the promotion gate judges: a model may go live only if every "
        "group is within band on each of them. One of prevalence, flag_rate, precision, fpr, "
        "fnr, fdr, for, tpr.",
    )
    min_group_officers: int = Field(
        30,
        ge=1,
        description="Fewest distinct officers a group (and its reference group) needs for a "
        "verdict; smaller groups are reported with verdict `insufficient data`.",
    )
    min_flags: int = Field(
        5,
        ge=0,
        description="Fewest flags a group and its reference group need for a verdict on a "
        "metric that involves flags (every metric but prevalence).",
    )
    min_positives: int = Field(
        5,
        ge=0,
        description="Fewest label positives a group and its reference group need for a "
        "verdict on a metric that involves the label (every metric but flag_rate).",
    )
    confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1.0,
        description="Confidence level of the reported bootstrap intervals.",
    )
    family_confidence: bool = Field(
        True,
        description="Judge verdicts with intervals widened for the number of comparisons "
        "of the same metric (Bonferroni: each at 1 - (1 - confidence) / comparisons), so that "
        "with no real disparity a metric raises a false alarm in at most 1 - confidence of "
        "audits, however many groups. The reported intervals stay at `confidence`.",
    )
    bootstrap_replicates: int = Field(
        4000,
        ge=100,
        le=100_000,
        description="Bootstrap replicates (officers resampled within each group).",
    )
    seed: int = Field(0, ge=0, description="Seed of the bootstrap and proxy-check sampling.")
    age_bands: list[int] = Field(
        default_factory=lambda: [25, 35, 45, 55],
        description="Lower edges of the age bands after the first, in years: [25, 35, 45, 55] "
        "gives <25, 25-34, 35-44, 45-54, 55+. Age on an as-of date is its year minus the "
        "birth year.",
    )
    proxy_max_rows: int = Field(
        5_000,
        ge=100,
        description="The proxy check fits on at most this many rows (a seeded sample), to "
        "bound its time on large forces.",
    )
    proxy_folds: int = Field(5, ge=2, le=20, description="Cross-validation folds of the proxy check.")
    proxy_top_features: int = Field(
        10, ge=1, description="How many features the proxy check lists per attribute."
    )

    @field_validator("attributes")
    @classmethod
    def _known_attributes(cls, value: list[str]) -> list[str]:
        unknown = [a for a in value if a not in AUDITABLE]
        if unknown:
            raise ValueError(f"unknown attribute(s) {unknown}; known: {', '.join(AUDITABLE)}")
        return value

    @field_validator("intersections")
    @classmethod
    def _known_intersections(cls, value: list[list[str]]) -> list[list[str]]:
        for combination in value:
            unknown = [a for a in combination if a not in AUDITABLE]
            if unknown:
                raise ValueError(f"unknown attribute(s) {unknown} in intersection {combination}")
            if len(combination) < 2 or len(set(combination)) != len(combination):
                raise ValueError(f"an intersection needs two or more different attributes: {combination}")
        return value

    @field_validator("band")
    @classmethod
    def _band_order(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low <= 1 <= high:
            raise ValueError(f"band must satisfy 0 < low <= 1 <= high, got {value}")
        return value

    @field_validator("age_bands")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(value, value[1:])) or any(v <= 0 for v in value):
            raise ValueError(f"age_bands must be positive and increasing, got {value}")
        return value

    @model_validator(mode="after")
    def _named_needs_groups(self) -> AuditConfig:
        if self.reference == "named" and not self.reference_groups:
            raise ValueError("reference = \"named\" needs reference_groups")
        return self

    def audited_attributes(self) -> list[str]:
        """Every attribute the audit reports on: the single ones, then the intersections."""
        return list(self.attributes) + [INTERSECTION_SEPARATOR.join(c) for c in self.intersections]

    def source_attributes(self) -> list[str]:
        """The single attributes needed to build the audited ones."""
        needed = list(self.attributes)
        for combination in self.intersections:
            needed += [a for a in combination if a not in needed]
        return needed
