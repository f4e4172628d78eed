"""Planted integrity anomalies: who gets which, and the log of the records planted.

A small share of officers (options.anomaly_rate of the headcount, at least
options.min_anomaly_officers) is given each kind. Officers are drawn with probability
rising with their misconduct propensity, and each officer gets at most one kind while
enough candidates remain. The table modules plant the records; this module remembers
which records they are, for OUT/ground_truth/anomalies.csv.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openeis.synth.context import Context
from openeis.synth.profiles import (
    ACCESS_ANOMALY_KINDS,
    ANOMALY_DESCRIPTIONS,
    ANOMALY_KINDS,
    ANOMALY_WINDOW_DAYS,
)
from openeis.synth.roster import Roster
from openeis.synth.sampling import weighted_sample

KIND_INDEX = {k: i for i, k in enumerate(ANOMALY_KINDS)}
NOT_PLANTED = -1


@dataclass
class AnomalyPlan:
    ctx: Context
    roster: Roster
    assigned: np.ndarray = field(init=False)
    kinds_of: list[np.ndarray] = field(init=False)  # per kind: officers chosen
    records: list[tuple[str, str, np.ndarray, pa.Array]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.assigned = np.zeros(self.roster.n, dtype=bool)
        self.kinds_of = [np.zeros(0, dtype=np.int64) for _ in ANOMALY_KINDS]

    @property
    def per_kind(self) -> int:
        opts = self.ctx.options
        if opts.anomaly_rate <= 0 and opts.min_anomaly_officers <= 0:
            return 0
        return max(opts.min_anomaly_officers, int(round(opts.anomaly_rate * opts.officers)))

    @property
    def window(self) -> tuple[int, int]:
        """[first, end) days in which non-access anomalies are planted."""
        tl = self.ctx.timeline
        return max(tl.start, tl.end - ANOMALY_WINDOW_DAYS), tl.end

    def enabled(self, kind: str) -> bool:
        if kind in ACCESS_ANOMALY_KINDS and self.ctx.options.access_months == 0:
            return False
        return self.per_kind > 0

    def choose(self, kind: str, eligible: np.ndarray, how_many: int | None = None) -> np.ndarray:
        """Officers for `kind` among `eligible` (bool per officer), sorted by index."""
        if not self.enabled(kind):
            return np.zeros(0, dtype=np.int64)
        k = self.per_kind if how_many is None else how_many
        rng = self.ctx.rng(f"anomaly-choice-{kind}")
        fresh = np.flatnonzero(eligible & ~self.assigned)
        chosen = weighted_sample(rng, fresh, self.roster.propensity[fresh], k)
        if len(chosen) < k:  # small forces: allow a second kind for an officer
            again = np.flatnonzero(eligible & self.assigned)
            more = weighted_sample(rng, again, self.roster.propensity[again], k - len(chosen))
            chosen = np.sort(np.concatenate([chosen, more]))
        self.assigned[chosen] = True
        self.kinds_of[KIND_INDEX[kind]] = chosen
        return chosen

    def eligible_in_window(self, first: int | None = None, last: int | None = None) -> np.ndarray:
        lo, hi = self.window
        first = lo if first is None else first
        last = hi if last is None else last
        return self.roster.serving_throughout(first, last)

    def record(self, kind: str, table: str, officers: np.ndarray, record_ids: pa.Array) -> None:
        if len(officers):
            self.records.append((kind, table, np.asarray(officers), record_ids))

    def record_planted(
        self, table: str, planted: np.ndarray, officers: np.ndarray, ids: pa.Array
    ) -> None:
        """Log every row whose `planted` marker names a kind (rows in final table order)."""
        for kind_index in np.unique(planted[planted != NOT_PLANTED]):
            rows = np.flatnonzero(planted == kind_index)
            self.record(ANOMALY_KINDS[kind_index], table, officers[rows], ids.take(pa.array(rows)))

    def anomalies_table(self) -> pa.Table:
        names = ["officer_id", "kind", "table", "record_id", "description"]
        if not self.records:
            return pa.table({n: pa.array([], pa.string()) for n in names})
        parts = []
        for kind, table, officers, ids in self.records:
            n = len(officers)
            parts.append(
                pa.table(
                    {
                        "officer_id": self.roster.ids.take(pa.array(officers)),
                        "kind": pa.repeat(pa.scalar(kind), n),
                        "table": pa.repeat(pa.scalar(table), n),
                        "record_id": ids.cast(pa.string()),
                        "description": pa.repeat(pa.scalar(ANOMALY_DESCRIPTIONS[kind]), n),
                    }
                )
            )
        out = pa.concat_tables(parts)
        order = pc.sort_indices(
            out,
            sort_keys=[(c, "ascending") for c in ("officer_id", "kind", "record_id")],
        )
        return out.take(order)

    def officer_kinds(self) -> list[np.ndarray]:
        """Per anomaly kind, a bool per officer: whether any record of that kind was planted."""
        out = []
        for kind in ANOMALY_KINDS:
            mask = np.zeros(self.roster.n, dtype=bool)
            for k, _table, officers, _ids in self.records:
                if k == kind:
                    mask[officers] = True
            out.append(mask)
        return out
