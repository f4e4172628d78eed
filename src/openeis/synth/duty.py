"""Duty periods: planned and worked shifts, hours and arrests per officer-month.

This is the exposure. Annual leave comes off the planned shifts; sickness, suspension and
parental leave come off the shifts worked; approved overtime adds to the hours on duty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis.synth import columns as C
from openeis.synth.absences import Absences
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.overtime import Overtime
from openeis.synth.profiles import function_array, rank_exposure_array
from openeis.synth.roster import Roster
from openeis.synth.sampling import integers
from openeis.synth.units import Units

ROSTER_CLOSE_DAYS = (1, 5)  # the month's roster is closed 1-5 days after its end


@dataclass
class Duty:
    planned: np.ndarray  # per grid row
    worked: np.ndarray
    hours: np.ndarray
    arrests: np.ndarray
    recorded: np.ndarray


def build_duty(
    ctx: Context, roster: Roster, grid: ServiceGrid, absences: Absences, overtime: Overtime
) -> Duty:
    rng = ctx.rng("duty")
    tl = ctx.timeline
    per_day = function_array("planned_shifts")[grid.function] / tl.month_length[grid.month]
    full = grid.served == tl.month_length[grid.month]
    noise = np.where(full, integers(rng, -1, 1, grid.n), 0)
    on_roster = np.maximum(grid.served - absences.leave_days, 0)
    planned = np.maximum(np.round(on_roster * per_day) + noise, 0).astype(np.int64)
    lost = np.round(absences.off_days * per_day).astype(np.int64)
    worked = np.maximum(planned - lost, 0)
    hours = worked * function_array("shift_hours")[grid.function] + overtime.approved_hours
    arrest_rate = (
        function_array("arrests")[grid.function]
        * rank_exposure_array()[grid.rank]
        * roster.activity[grid.officer]
    )
    arrests = rng.poisson(worked * arrest_rate)
    lo, hi = ROSTER_CLOSE_DAYS
    recorded = np.minimum(grid.day_to + integers(rng, lo, hi, grid.n), tl.end - 1)
    return Duty(
        planned=planned.astype(np.int16),
        worked=worked.astype(np.int16),
        hours=hours,
        arrests=arrests.astype(np.int32),
        recorded=recorded.astype(np.int32),
    )


def duty_table(grid: ServiceGrid, duty: Duty, roster: Roster, units: Units) -> pa.Table:
    order = slice(None)  # grid rows are in month, then officer order
    return C.build_table(
        "duty_periods",
        {
            "duty_period_id": C.sequence_ids("DP", grid.n),
            "officer_id": C.lookup(roster.ids, grid.officer[order]),
            "unit_id": C.lookup(units.ids, grid.unit[order]),
            "planned_shifts": C.ints(duty.planned[order]),
            "shifts_worked": C.ints(duty.worked[order]),
            "hours_on_duty": C.floats(duty.hours[order]),
            "arrests": C.ints(duty.arrests[order]),
            "occurred_at": C.dates(grid.day_from[order]),
            "ends_at": C.dates(grid.day_to[order]),
            "recorded_at": C.dates(duty.recorded[order]),
        },
    )
