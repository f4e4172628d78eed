"""other_events: vehicle accidents, officer injuries, pursuits and secondary income.

Accidents, injuries and pursuits arrive per officer-month at unit-function rates per
shift worked (roads and response have most); secondary income comes from declarations.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openeis.synth import columns as C
from openeis.synth.anomalies import NOT_PLANTED, AnomalyPlan
from openeis.synth.context import Context
from openeis.synth.declarations import Income
from openeis.synth.grid import ServiceGrid
from openeis.synth.profiles import (
    INJURY_SUBTYPES,
    PURSUIT_OUTCOMES,
    VEHICLE_ACCIDENT_OUTCOMES,
    VEHICLE_ACCIDENT_SUBTYPES,
    function_array,
    rank_exposure_array,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import categorical, expand, integers, time_order

EVENT_TYPES = ("vehicle_accident", "officer_injury", "pursuit", "secondary_income")
SUBTYPES = tuple(
    dict.fromkeys(
        list(VEHICLE_ACCIDENT_SUBTYPES) + list(INJURY_SUBTYPES) + ["vehicle", "pay_record"]
    )
)
OUTCOMES = tuple(dict.fromkeys(list(VEHICLE_ACCIDENT_OUTCOMES) + list(PURSUIT_OUTCOMES)))
ACCIDENT_DAMAGE_GBP = (7.0, 1.0)  # lognormal(mu, sigma)
ACCIDENT_DECISION_DAYS = (30, 120)
INJURY_DAYS_LOST = 3.0  # value: days lost, exponential mean
PURSUIT_MINUTES = (1, 30)


def build_other_events(
    ctx: Context, roster: Roster, grid: ServiceGrid, worked: np.ndarray, income: Income,
    plan: AnomalyPlan,
) -> pa.Table:
    rng = ctx.rng("other_events")
    tl = ctx.timeline
    exposure = worked * rank_exposure_array()[grid.rank]
    parts = []  # (officer, type, subtype, outcome, value, day, recorded, decided, planted)

    sub = {s: i for i, s in enumerate(SUBTYPES)}
    out = {o: i for i, o in enumerate(OUTCOMES)}

    def draw(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, _ = expand(rng.poisson(exposure * function_array(name)[grid.function]))
        day = grid.random_days(rng, rows).astype(np.int64)
        return grid.officer[rows], day, day + integers(rng, 0, 2, len(rows))

    officer, day, recorded = draw("vehicle_accident")
    n = len(officer)
    subtype = np.array([sub[s] for s in VEHICLE_ACCIDENT_SUBTYPES])[
        categorical(rng, list(VEHICLE_ACCIDENT_SUBTYPES.values()), n)
    ]
    outcome = np.array([out[o] for o in VEHICLE_ACCIDENT_OUTCOMES])[
        categorical(rng, list(VEHICLE_ACCIDENT_OUTCOMES.values()), n)
    ]
    decided = recorded + integers(rng, *ACCIDENT_DECISION_DAYS, n)
    outcome = np.where(decided < tl.end, outcome, -1)
    decided = np.where(decided < tl.end, decided, -1)
    value = np.round(rng.lognormal(*ACCIDENT_DAMAGE_GBP, n))
    parts.append((officer, 0, subtype, outcome, value, day, recorded, decided))

    officer, day, recorded = draw("officer_injury")
    n = len(officer)
    subtype = np.array([sub[s] for s in INJURY_SUBTYPES])[
        categorical(rng, list(INJURY_SUBTYPES.values()), n)
    ]
    value = np.ceil(rng.exponential(INJURY_DAYS_LOST, n))
    parts.append((officer, 1, subtype, np.full(n, -1), value, day, recorded, np.full(n, -1)))

    officer, day, recorded = draw("pursuit")
    n = len(officer)
    outcome = np.array([out[o] for o in PURSUIT_OUTCOMES])[
        categorical(rng, list(PURSUIT_OUTCOMES.values()), n)
    ]
    value = integers(rng, PURSUIT_MINUTES[0], PURSUIT_MINUTES[1], n).astype(float)
    vehicle = np.full(n, sub["vehicle"])
    parts.append((officer, 2, vehicle, outcome, value, day, recorded, np.full(n, -1)))

    n = len(income.officer)
    parts.append(
        (income.officer, 3, np.full(n, sub["pay_record"]), np.full(n, -1), income.value,
         income.day, income.recorded, np.full(n, -1))
    )
    planted = np.concatenate(
        [np.full(len(p[0]), NOT_PLANTED, dtype=np.int16) for p in parts[:3]] + [income.planted]
    )
    officer = np.concatenate([p[0] for p in parts]).astype(np.int64)
    etype = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
    subtype = np.concatenate([p[2] for p in parts])
    outcome = np.concatenate([p[3] for p in parts])
    value = np.concatenate([p[4] for p in parts]).astype(np.float64)
    day = np.concatenate([p[5] for p in parts]).astype(np.int64)
    recorded = np.minimum(np.concatenate([p[6] for p in parts]), tl.end - 1)
    decided = np.concatenate([p[7] for p in parts])

    keep = day < tl.end
    arrays = (officer, etype, subtype, outcome, value, day, recorded, decided, planted)
    officer, etype, subtype, outcome, value, day, recorded, decided, planted = (
        a[keep] for a in arrays
    )
    order = time_order(day, tl.start)
    n = len(officer)
    ids = C.sequence_ids("EV", n)
    plan.record_planted("other_events", planted[order], officer[order], ids)
    decided = decided[order]
    return C.build_table(
        "other_events",
        {
            "event_id": ids,
            "officer_id": C.lookup(roster.ids, officer[order]),
            "event_type": C.codes(EVENT_TYPES, etype[order]),
            "subtype": C.codes(SUBTYPES, subtype[order]),
            "outcome": C.codes(OUTCOMES, outcome[order]),
            "value": C.floats(value[order]),
            "occurred_at": C.dates(day[order]),
            "recorded_at": C.dates(recorded[order]),
            "decided_at": C.dates(np.maximum(decided, 0), decided >= 0),
        },
    )
