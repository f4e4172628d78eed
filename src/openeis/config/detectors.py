"""The `[detectors]` config section: which integrity detectors run and how they judge.

Kept free of the detectors' numerical code so that openeis.config can import it cheaply.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PromptKind = Literal["integrity", "welfare", "performance"]


class DetectorSettings(BaseModel):
    """What every detector has: an on/off switch and the kind of prompt it raises."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run this detector.")
    prompt_kind: PromptKind = Field(
        "integrity", description="Kind of prompt its hits raise: integrity, welfare or performance.")


class OvertimeDuringAbsence(DetectorSettings):
    """Overtime claimed for a day inside a recorded absence (sickness or annual leave)."""


class OverlappingOvertime(DetectorSettings):
    min_overlap_minutes: int = Field(
        30, ge=1, description="Two claims of one officer overlapping by at least this many minutes.")


class ExcessiveOvertimeHours(DetectorSettings):
    max_daily_hours: float = Field(
        16.0, gt=0, description="Plausible daily maximum: overtime hours claimed for one day "
        "(claims summed by the day they start) above this are a hit.")


class PremiumDaySwaps(DetectorSettings):
    min_swaps: int = Field(
        5, ge=1, description="Fewest premium-day swaps for a hit, however unusual against peers.")


class LookupsWithoutCaseReference(DetectorSettings):
    min_lookups: int = Field(3, ge=1, description="Fewest look-ups without a case reference for a hit.")


class RepeatedSubjectLookups(DetectorSettings):
    min_lookups: int = Field(10, ge=2, description="Fewest look-ups of one subject for a hit.")


class OutOfHoursLookups(DetectorSettings):
    start_hour: int = Field(1, ge=0, le=23, description="Out-of-hours window start (hour, inclusive).")
    end_hour: int = Field(5, ge=1, le=24, description="Out-of-hours window end (hour, exclusive).")
    min_lookups: int = Field(5, ge=1, description="Fewest out-of-hours look-ups for a hit.")


class LookupsAfterComplaint(DetectorSettings):
    window_days: int = Field(
        14, ge=1, description="Days after a complaint about the officer was received in which "
        "look-ups are examined.")
    min_lookups: int = Field(5, ge=2, description="Fewest look-ups of one subject in that window for a hit.")


class UndeclaredSecondaryIncome(DetectorSettings):
    min_records: int = Field(1, ge=1, description="Fewest uncovered secondary-income pay records for a hit.")
    covering_kinds: list[str] = Field(
        default_factory=lambda: ["secondary_employment", "business_interest"],
        description="Declaration kinds that explain secondary income (unless refused).")


class HighBradfordFactor(DetectorSettings):
    prompt_kind: PromptKind = Field(
        "welfare", description="Kind of prompt its hits raise: integrity, welfare or performance.")
    threshold: float = Field(
        2000.0, gt=0, description="Bradford factor (spells squared x days, over the window) at "
        "or above which the attendance policy asks for a welfare conversation.")
    window_days: int = Field(365, ge=28, description="Rolling window of the Bradford factor (52 weeks).")
    max_spell_days: int = Field(
        7, ge=1, description="Only spells of at most this many days count: long-term sickness is "
        "managed under its own policy and would otherwise dominate the factor.")


class DetectorsConfig(BaseModel):
    """Integrity pattern detectors (section `[detectors]`)."""

    model_config = ConfigDict(extra="forbid")

    lookback_days: int = Field(
        730, ge=28, description="The period examined: records that happened in this many "
        "days up to the as-of date (and were recorded by then).")
    fdr: float = Field(
        0.05, gt=0, lt=1, description="False-discovery rate of the peer-relative detectors "
        "(Benjamini-Hochberg across the officers tested), so that about this share of their "
        "hits, not this share of all officers, are chance.")
    min_peer_group: int = Field(
        8, ge=2, description="Peers are the officers in the same unit and role on the as-of "
        "date; smaller groups use everyone in the same role force-wide.")
    workload_share: float = Field(
        0.5, gt=0, le=1, description="A peer-relative hit says it is mostly workload when "
        "exposure (shifts worked, look-ups made) explains at least this share of the officer's "
        "excess over the peer average.")
    max_evidence: int = Field(
        50, ge=1, description="Most evidence records listed per hit (all are counted).")
    overtime_during_sickness: OvertimeDuringAbsence = Field(default_factory=OvertimeDuringAbsence)
    overtime_during_leave: OvertimeDuringAbsence = Field(default_factory=OvertimeDuringAbsence)
    overlapping_overtime: OverlappingOvertime = Field(default_factory=OverlappingOvertime)
    excessive_overtime_hours: ExcessiveOvertimeHours = Field(default_factory=ExcessiveOvertimeHours)
    premium_day_swaps: PremiumDaySwaps = Field(default_factory=PremiumDaySwaps)
    lookups_without_case_reference: LookupsWithoutCaseReference = Field(
        default_factory=LookupsWithoutCaseReference)
    repeated_subject_lookups: RepeatedSubjectLookups = Field(default_factory=RepeatedSubjectLookups)
    out_of_hours_lookups: OutOfHoursLookups = Field(default_factory=OutOfHoursLookups)
    lookups_after_complaint: LookupsAfterComplaint = Field(default_factory=LookupsAfterComplaint)
    undeclared_secondary_income: UndeclaredSecondaryIncome = Field(default_factory=UndeclaredSecondaryIncome)
    high_bradford_factor: HighBradfordFactor = Field(default_factory=HighBradfordFactor)

    def settings(self, name: str) -> DetectorSettings:
        return getattr(self, name)
