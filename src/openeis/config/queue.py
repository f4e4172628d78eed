"""The `[queue]` config section: one review budget shared by every source of flags, and the
welfare queue kept apart from the conduct queue."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator


class QueueConfig(BaseModel):
    """How the period's flags become the review queues (docs/web.md, "The review budget").

    The conduct capacity is `[flags]` capacity (top_percent or top_n of the cohort). Each
    source first fills its share of it (model flags by rank, integrity detector hits by
    strength, rule flags by the model's percentile or how far over the threshold); capacity a
    source leaves unused goes to the others in the order model, detector, rule. Work already
    started (in review or decided) keeps its place and counts against the budget."""

    model_config = ConfigDict(extra="forbid")

    model_share: float = Field(0.5, ge=0, le=1, description="Share of the conduct capacity kept first "
                               "for the live model's flags.")
    detector_share: float = Field(0.3, ge=0, le=1, description="Share of the conduct capacity kept "
                                  "first for integrity detector hits.")
    rule_share: float = Field(0.2, ge=0, le=1, description="Share of the conduct capacity kept first "
                              "for threshold-rule flags.")
    unit_capacity: int | None = Field(None, ge=1, description="At most this many conduct items per unit "
                                      "and period (a line supervisor's capacity); none: no cap per unit.")
    welfare_top_percent: float = Field(1.0, gt=0, le=100, description="Welfare queue capacity per period "
                                       "as a percent of the cohort (used unless welfare_top_n is set).")
    welfare_top_n: int | None = Field(None, ge=1, description="Welfare queue capacity per period as a "
                                      "number of officers (overrides welfare_top_percent).")
    review_within_days: int = Field(28, ge=1, description="A queued item is due for a decision this many "
                                    "days after its as-of date (the queue's due date).")

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> "QueueConfig":
        total = self.model_share + self.detector_share + self.rule_share
        if abs(total - 1) > 1e-9:
            raise ValueError(f"model_share + detector_share + rule_share must be 1 (they are {total:g})")
        return self

    def welfare_capacity(self, cohort: int) -> int:
        if self.welfare_top_n:
            return min(self.welfare_top_n, cohort)
        return min(cohort, max(1, math.ceil(cohort * self.welfare_top_percent / 100)))

    def shares(self, capacity: int) -> dict[str, int]:
        """The capacity split by source, by the largest remainder (the parts sum to it)."""
        wanted = {"model": self.model_share, "detector": self.detector_share, "rule": self.rule_share}
        whole = {s: math.floor(capacity * w) for s, w in wanted.items()}
        left = capacity - sum(whole.values())
        for source in sorted(wanted, key=lambda s: (-(capacity * wanted[s] - whole[s]), list(wanted).index(s)))[:left]:
            whole[source] += 1
        return whole
