"""What to generate: SynthOptions, a validated pydantic model."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from openeis.synth.bias import BiasSpec, parse_bias

DEFAULT_START = dt.date(2015, 1, 1)


class SynthOptions(BaseModel):
    """Options of the synthetic force generator (see docs/synth.md).

    The data covers [start, start + years); the end of that window is the snapshot date:
    nothing recorded on or after it appears in the files.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    officers: int = Field(
        2000, ge=10, le=2_000_000, description="Headcount at any time (joiners replace leavers)."
    )
    years: int = Field(10, ge=1, le=40, description="Years of data, ending at the snapshot.")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Same options and seed: same bytes.")
    start: dt.date = Field(DEFAULT_START, description="First day of the data (YYYY-MM-DD).")
    biases: list[BiasSpec] = Field(
        default_factory=list,
        description="Planted group effects; strings are parsed with parse_bias.",
    )
    file_format: Literal["csv", "parquet"] = Field("csv", description="Input file format.")
    access_months: int = Field(
        12,
        ge=0,
        le=480,
        description="system_access covers only the last N months of the data (0: none), "
        "to keep its volume sane.",
    )
    access_rate: float = Field(
        2.0,
        ge=0,
        le=100,
        description="Look-ups per week by a full-time officer of an operational unit "
        "(scaled by unit function and by officer).",
    )
    anomaly_rate: float = Field(
        0.005,
        ge=0,
        le=0.05,
        description="Share of the headcount given each planted integrity anomaly kind.",
    )
    min_anomaly_officers: int = Field(
        3, ge=0, le=1000, description="At least this many officers per anomaly kind."
    )
    ethnicity_shares: tuple[float, float, float, float] | None = Field(
        None,
        description="Shares of the synthetic ethnic groups A, B, C, D in the roster (default "
        "0.70, 0.15, 0.10, 0.05); e.g. balanced groups for an audit's power study.",
    )

    @field_validator("ethnicity_shares")
    @classmethod
    def _shares(cls, value):
        if value is not None and (min(value) < 0 or sum(value) <= 0):
            raise ValueError("ethnicity_shares: non-negative, not all zero")
        return value

    @field_validator("biases", mode="before")
    @classmethod
    def _parse_biases(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, str | BiasSpec):
            value = [value]
        items = list(value)  # type: ignore[call-overload]
        return [parse_bias(v) if isinstance(v, str) else v for v in items]

    @field_validator("start", mode="before")
    @classmethod
    def _parse_start(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"start must be a date YYYY-MM-DD, got {value!r}") from None
        return value

    @property
    def end(self) -> dt.date:
        """The snapshot date (exclusive end of the data)."""
        return add_years(self.start, self.years)

    def bias_strings(self) -> list[str]:
        return [str(b) for b in self.biases]


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
