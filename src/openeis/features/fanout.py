"""Breakpoints fanned out in numpy: the client route of compile.delta_plan.

compile.delta_plan is the definition: every source row emits a +v at the first as-of date on
or after its `vis_day` and a -v at the first one on or after each end (clamped to >= vis_day),
and running sums over the date index give every date at once. Its client SQL produced one row
per breakpoint (~30M per officer batch at national size, through a UNION ALL of branches and a
CASE tree), and producing those rows was most of the batch stage. Here SQL returns one row per
source row (its day numbers, each distinct condition once, each value column once) and numpy
computes the breakpoint days with the same formulas, their date index by table look-up, and
the sums with np.bincount.

NULL days are NaN: SQL's least/greatest ignore NULLs exactly like np.fmin/np.fmax, `+`
propagates NULL like NaN, and a NaN breakpoint sorts after every as-of date, so it never
reaches one (in SQL a NULL breakpoint is dropped). A test compares this route with the
all-SQL one (`running_sums = "sql"`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis.features.compile import BIG, FeatureSpec, days_since_condition

DAY_COLUMNS = ("vis_day", "occ_day", "occ_floor_day", "until_day", "start_day", "end_day")


@dataclass
class RowPlan:
    """One source's query and what numpy reads from it.

    points_sql: one row per source row: the officer (or its index `oi`), the day numbers as
    DOUBLE (NULL -> NaN), one boolean per distinct condition (k0...), one DOUBLE per value
    column (v0...). conditions / values: spec name -> column.
    """

    points_sql: str
    specs: list[FeatureSpec]
    conditions: dict[str, str]
    values: dict[str, str]
    versioned: bool = False  # rows of any phase may stop holding (compile.delta_plan)


def _condition(spec: FeatureSpec) -> str:
    """The same row condition as delta_plan's term for this spec (days_since: rows that stop
    holding too, taken date by date rather than by the running max)."""
    if spec.metric == "days_since":
        return days_since_condition(spec)
    phase = "phase = 'record'" if spec.phase == "record" else "phase <> 'record'"
    return f"{phase} AND ({spec.condition or 'TRUE'})"


def row_plan(specs: list[FeatureSpec], src_sql: str, officer_index: str | None = None,
             versioned: bool = False) -> RowPlan:
    conds = list(dict.fromkeys(_condition(s) for s in specs))
    values = list(dict.fromkeys(s.value for s in specs if s.metric == "sum"))
    cond_cols = [f"coalesce({c}, false) AS k{i}" for i, c in enumerate(conds)]
    value_cols = [f"CAST({v} AS DOUBLE) AS v{i}" for i, v in enumerate(values)]
    day_cols = [f"CAST({d} AS DOUBLE) AS {d}" for d in DAY_COLUMNS]
    if officer_index:
        # the officer's row in the dense arrays, so numpy never looks up officer strings
        src = f"(SELECT s.*, o.oi FROM ({src_sql}) s JOIN {officer_index} o ON o.officer = s.officer)"
        who = "oi"
    else:
        src, who = f"({src_sql})", "officer"
    # rows meeting no condition add nothing (e.g. open phases of a source whose state
    # features all read decisions): leave them in the database
    any_cond = " OR ".join(f"k{i}" for i in range(len(conds)))
    sql = (f"SELECT * FROM (SELECT {', '.join([who, *day_cols, *cond_cols, *value_cols])} "
           f"FROM {src} r) x WHERE {any_cond}")
    return RowPlan(
        sql, specs,
        {s.name: f"k{conds.index(_condition(s))}" for s in specs},
        {s.name: f"v{values.index(s.value)}" for s in specs if s.metric == "sum"},
        versioned,
    )


class _Rows:
    """A source query's rows; breakpoint keys per branch and condition, each computed once.

    Dense arrays are date-major, (date index, officer index), so that the running sums over
    dates are whole-row additions rather than 36-element rows.
    """

    def __init__(self, table: pa.Table, days: np.ndarray, n_off: int, versioned: bool = False):
        self.table = table
        self.versioned = versioned
        self.n, self.n_off = len(days), n_off
        self.size = n_off * self.n
        self.oi = oi_of(table)
        # as-of date index of a day number d (the as-of days before d) by table look-up:
        # lut[d - lo] for lo <= d <= hi; a NaN day (NULL) maps past the last date
        self.lo, self.hi = int(days[0]), int(days[-1]) + 1
        self.lut = np.searchsorted(days, np.arange(self.lo, self.hi + 1), side="left")
        self._cols: dict[str, np.ndarray] = {}
        self._keys: dict[str, np.ndarray] = {}
        self._selected: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def col(self, name: str) -> np.ndarray:
        if name not in self._cols:
            data = self.table.column(name).to_numpy(zero_copy_only=False)
            self._cols[name] = data.astype(bool if name.startswith("k") else np.float64, copy=False)
        return self._cols[name]

    def index(self, day: np.ndarray) -> np.ndarray:
        """The date index of the first as-of date on or after each day (n: none; NaN: none)."""
        idx = self.lut[np.clip(np.where(np.isnan(day), self.hi, day), self.lo, self.hi).astype(np.int64) - self.lo]
        return np.where(np.isnan(day), self.n, idx)

    def key(self, branch: str, day) -> np.ndarray:
        """(date index, officer) cell of a breakpoint per row; -1 where it reaches no as-of date."""
        if branch not in self._keys:
            d = day()
            bp = np.where(np.isnan(d), np.inf, np.fmax(d, self.col("vis_day")))  # on or after vis_day
            idx = self.lut[np.clip(bp, self.lo, self.hi).astype(np.int64) - self.lo]
            self._keys[branch] = np.where(idx < self.n, idx * self.n_off + self.oi, -1)
        return self._keys[branch]

    def selected(self, branch: str, day, cond: str) -> tuple[np.ndarray, np.ndarray]:
        """(cells, row positions) of a branch's breakpoints that reach an as-of date, for the
        rows meeting a condition (shared by the specs with that condition: windows, metrics)."""
        if (branch, cond) not in self._selected:
            # every breakpoint is clamped to on or after vis_day (never NULL: occurred_at and
            # recorded_at are required), so a row whose start reaches no as-of date has none
            rows = self.selected("S", lambda: self.col("vis_day"), cond)[1] if branch != "S" \
                else np.flatnonzero(self.col(cond))
            keys = self.key(branch, day)[rows]
            ok = keys >= 0
            self._selected[branch, cond] = (keys[ok], rows[ok])
        return self._selected[branch, cond]


def oi_of(table: pa.Table) -> np.ndarray:
    return table.column("oi").to_numpy().astype(np.int64, copy=False)


def _breakpoints(r: _Rows, spec: FeatureSpec):
    """(branch, day, value of the sum (`a` for days), value of `b` for days) per breakpoint.

    compile.delta_plan's formulas, branch for branch; `day` computes the branch's day per row
    (only if its keys are not cached yet). For counts and sums the value is "+" or "-": what
    the spec adds (1, or the value column) or its negative; other values are per-row arrays
    or scalars.
    """
    vis, until, w = r.col("vis_day"), r.col("until_day"), spec.days
    until_big = lambda: np.where(np.isnan(until), BIG, until)  # noqa: E731
    start = ("S", lambda: vis)
    if spec.metric in ("count", "sum"):
        if w is not None:
            occ = r.col("occ_day")
            return [(*start, "+", None), (f"E{w}", lambda: np.fmin(occ + w, until_big()), "-", None)]
        if spec.phase == "state" or r.versioned:  # an open phase or a version ends
            return [(*start, "+", None), ("U", lambda: until, "-", None)]
        return [(*start, "+", None)]
    if spec.metric == "spells":
        end = r.col("end_day") + (w if w is not None else np.nan)  # w None: ends only by until
        day = lambda: np.fmin(np.where(np.isnan(end), BIG, end), until_big())  # noqa: E731
        return [(*start, 1.0, None), (f"P{w}", day, -1.0, None)]
    if spec.metric == "days":  # (d - s + 1) on [s, p1), p1 - s on [p1, p2), e + w - d on [p2, p3)
        s, e = r.col("start_day"), r.col("end_day")
        if w is None:
            parts = [(*start, 1.0 - s, 1.0), ("Dall", lambda: e + 1, e, -1.0)]
        else:
            p1 = np.fmin(e + 1, s + w)
            p1 = np.where(np.isnan(p1), s + w, p1)
            p2 = lambda: np.where(np.isnan(e), np.nan, np.fmax(e + 1, s + w))  # noqa: E731
            parts = [
                (*start, 1.0 - s, 1.0),
                (f"D1_{w}", lambda: p1, p1 - 1, -1.0),
                (f"D2_{w}", p2, e + w - p1 + s, -1.0),
                (f"D3_{w}", lambda: e + w, -(e + w), 1.0),
            ]
        if r.versioned:  # from until_day on, each breakpoint is taken back: the row is gone
            parts += [(f"T{branch}", _taken_back(day, until), _negated(a), _negated(b))
                      for branch, day, a, b in parts]
        return parts
    raise ValueError(spec.metric)  # days_since is a running max (the caller)


def _taken_back(day, until: np.ndarray):
    """The day a breakpoint is taken back: the later of it and until_day (NaN: never)."""
    return lambda: np.where(np.isnan(until), np.nan, np.fmax(day(), until))


def _negated(value):
    return -value


def _dense_sum(r: _Rows, cond: str, parts) -> np.ndarray:
    """Each breakpoint's value summed into its cell: the difference array of one column."""
    keys, weights = [], []
    for branch, day, value in parts:
        k, rows = r.selected(branch, day, cond)
        if isinstance(value, np.ndarray):
            v = value[rows]
            ok = ~np.isnan(v)  # a NULL value contributes nothing (as in SQL)
            k, v = k[ok], v[ok]
        else:
            v = np.full(len(k), value)
        keys.append(k)
        weights.append(v)
    return np.bincount(np.concatenate(keys), weights=np.concatenate(weights), minlength=r.size)


def _dense_count(r: _Rows, cond: str, parts) -> np.ndarray:
    """Counts: +1 at starts, -1 at ends, without weights (integer bincounts)."""
    (branch, day, _), *ends = parts
    dense = np.bincount(r.selected(branch, day, cond)[0], minlength=r.size)
    for branch, day, _ in ends:
        dense -= np.bincount(r.selected(branch, day, cond)[0], minlength=r.size)
    return dense


def running_columns(table: pa.Table, rplan: RowPlan, days: np.ndarray, grid_oi: np.ndarray,
                    grid_idx: np.ndarray, grid_day: np.ndarray, columns: dict) -> None:
    """One source's rows -> its feature columns on the grid (added to `columns`).

    The dense arrays have one column per officer index met in the grid or the source.
    """
    n_off = int(max(grid_oi.max(initial=-1), oi_of(table).max(initial=-1))) + 1
    r = _Rows(table, days, n_off, rplan.versioned)
    cell = grid_idx.astype(np.int64) * n_off + grid_oi  # each grid row's cell

    def on_grid(dense: np.ndarray, op) -> np.ndarray:
        rows = dense.reshape(r.n, n_off)
        for i in range(1, r.n):  # running sum (or max) over dates, in place: whole-row
            op(rows[i - 1], rows[i], out=rows[i])  # operations, 10x numpy's cumsum(axis=0)
        return dense[cell]  # the grid comes in cell order (base_sql), so this reads in order

    for spec in rplan.specs:
        cond = rplan.conditions[spec.name]
        if spec.metric == "days_since":  # the latest occurrence among rows holding on the date
            key, rows = r.selected("S", lambda: r.col("vis_day"), cond)
            occ = r.col("occ_floor_day")[rows]  # D minus the day it happened
            until = r.col("until_day")[rows]
            ok = ~np.isnan(occ) & np.isnan(until)  # rows that hold for ever: a running max
            dense = np.full(r.size, -np.inf)
            np.maximum.at(dense, key[ok], occ[ok])
            latest = on_grid(dense, np.maximum)
            limited = np.flatnonzero(~np.isnan(occ) & ~np.isnan(until))
            if len(limited):  # rows that stop holding (few): each date they hold, one by one
                latest = np.maximum(latest, _while_holding(r, key[limited], r.index(until[limited]),
                                                           occ[limited])[cell])
            value = grid_day - latest
            columns[spec.name] = pa.array(value, mask=~np.isfinite(value)).cast(pa.int64())
            continue
        bps = _breakpoints(r, spec)
        if spec.metric == "count":
            running = on_grid(_dense_count(r, cond, [(b, d, a) for b, d, a, _ in bps]), np.add)
            columns[spec.name] = pa.array(running)
        elif spec.metric == "sum":
            v = r.col(rplan.values[spec.name])
            parts = [(b, d, v if a == "+" else -v) for b, d, a, _ in bps]
            columns[spec.name] = pa.array(on_grid(_dense_sum(r, cond, parts), np.add), type=pa.float64())
        elif spec.metric == "spells":
            running = on_grid(_dense_sum(r, cond, [(b, d, a) for b, d, a, _ in bps]), np.add)
            columns[spec.name] = pa.array(np.rint(running).astype(np.int64))
        else:  # days: a + b * d, both running sums
            a = on_grid(_dense_sum(r, cond, [(b, d, a) for b, d, a, _ in bps]), np.add)
            b = on_grid(_dense_sum(r, cond, [(b, d, bv) for b, d, _, bv in bps]), np.add)
            columns[spec.name] = pa.array(np.rint(a + b * grid_day).astype(np.int64))


def _while_holding(r: _Rows, start_key: np.ndarray, end_index: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Dense (date-major) max of `value` over the dates each row holds: from its start cell's
    date up to, not including, end_index. Not a running max: a row is forgotten after it ends."""
    first = start_key // r.n_off
    officer = start_key % r.n_off
    lengths = np.maximum(end_index - first, 0)
    rows = np.repeat(np.arange(len(first)), lengths)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cells = (first[rows] + offsets) * r.n_off + officer[rows]
    dense = np.full(r.size, -np.inf)
    np.maximum.at(dense, cells, value[rows])
    return dense
