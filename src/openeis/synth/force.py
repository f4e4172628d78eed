"""Use-of-force reports: one row per officer per incident.

Rate per officer-month: shifts worked x unit rate x rank exposure x (0.5 + 0.5 x
propensity) (x any use_of_force bias). Some incidents are reported by a second officer of
the same unit and month, sharing the incident_id.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.bias import rate_multiplier
from openeis.synth.context import Context
from openeis.synth.grid import ServiceGrid
from openeis.synth.profiles import (
    FORCE_TYPE_SHARES,
    OFFICER_INJURED,
    SUBJECT_INJURED,
    USE_OF_FORCE_PAIR_SHARE,
    function_array,
    rank_exposure_array,
    shares,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import categorical_by_group, expand, integers, stable_order, time_order

REPORT_DELAY_DAYS = (0, 2)


def force_type_table() -> np.ndarray:
    rows = []
    for f in schema.UNIT_FUNCTIONS:
        mix = FORCE_TYPE_SHARES.get(f, FORCE_TYPE_SHARES["default"])
        rows.append(shares(mix, schema.FORCE_TYPES))
    return np.array(rows)


def build_use_of_force(
    ctx: Context, roster: Roster, grid: ServiceGrid, worked: np.ndarray
) -> tuple[pa.Table, np.ndarray]:
    """The table, and the officer index of each report (for effect sizes)."""
    rng = ctx.rng("use_of_force")
    tl = ctx.timeline
    officer_rate = 0.5 + 0.5 * roster.propensity
    bias = rate_multiplier(ctx.options.biases, "use_of_force", roster.attributes())
    if bias is not None:
        officer_rate = officer_rate * bias
    lam = (
        worked
        * function_array("use_of_force")[grid.function]
        * rank_exposure_array()[grid.rank]
        * officer_rate[grid.officer]
    )
    rows, _ = expand(rng.poisson(lam))
    n = len(rows)
    day = grid.random_days(rng, rows).astype(np.int64)
    recorded = day + integers(rng, REPORT_DELAY_DAYS[0], REPORT_DELAY_DAYS[1], n)
    keep = recorded < tl.end
    rows, day, recorded = rows[keep], day[keep], recorded[keep]
    n = len(rows)
    # Incidents numbered in time order.
    incident = np.empty(n, dtype=np.int64)
    incident[time_order(day, tl.start)] = np.arange(n)

    pair = rng.random(n) < USE_OF_FORCE_PAIR_SHARE
    second = grid.peers(rng, rows[pair], 1)[:, 0]
    ok = second >= 0
    report_rows = np.concatenate([rows, second[ok]])
    report_day = np.concatenate([day, day[pair][ok]])
    report_recorded = np.concatenate([recorded, recorded[pair][ok]])
    report_incident = np.concatenate([incident, incident[pair][ok]])
    officer = grid.officer[report_rows]
    m = len(report_rows)
    force_type = categorical_by_group(rng, grid.function[report_rows], force_type_table())
    subject_injured = rng.random(m) < SUBJECT_INJURED
    officer_injured = rng.random(m) < OFFICER_INJURED

    order = stable_order(report_incident)  # incidents are numbered in time order
    table = C.build_table(
        "use_of_force",
        {
            "use_of_force_id": C.sequence_ids("UF", m),
            "officer_id": C.lookup(roster.ids, officer[order]),
            "incident_id": C.fixed_width(
                ["IN", (report_incident[order] + 1, C.digits_for(n, 8))], m
            ),
            "force_type": C.schema_codes("use_of_force", "force_type", force_type[order]),
            "subject_injured": C.bools(subject_injured[order]),
            "officer_injured": C.bools(officer_injured[order]),
            "occurred_at": C.dates(report_day[order]),
            "recorded_at": C.dates(report_recorded[order]),
        },
    )
    return table, officer
