"""Compile feature definitions into SQL that computes every as-of date in one pass.

The trick is a difference array over the sorted as-of dates. A source row contributes to a
windowed feature on exactly the as-of days d with  vis_day <= d < end  (end = occ_day + w for
counts, end_day + w for spells, until_day for a phase that ends, whichever is first): a
contiguous run of as-of dates. So each row emits +v at the index of the first as-of date
>= vis_day and -v at the index of the first as-of date >= end, the deltas are summed per
(officer, date index), and a running sum over the date index gives the value on every date.
Span lengths ("sickness days in the last year") are piecewise linear in d, so they carry
two running sums, a and b, and the value is a + b * d. `days_since` is a running max.

Every breakpoint day is clamped to >= vis_day, so nothing a row says can reach an as-of
date before the row exists: that clamp, and the source relations of sources.py, are where
leakage is ruled out. Cost: O(rows x windows) plus one sort of (officer, date index)
deltas, whatever the number of as-of dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from openeis.config.features import Aggregation, window_days
from openeis.features.sources import Source, source
from openeis.sql_text import literal

BIG = 10_000_000  # a day number beyond any date (year ~29000)
STATE_PHASES = ("open", "decided")


class DefinitionError(ValueError):
    """A feature definition that cannot be compiled (unknown column, metric misuse...)."""


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    source: str
    condition: str | None  # SQL over the source's columns
    metric: str  # count | sum | days | spells | days_since
    window: str
    days: int | None  # None: all time
    value: str | None = None
    phase: str = "record"  # record | state

    @property
    def columns(self) -> list[str]:
        """Output columns of the delta stage (days has two: a and b)."""
        if self.metric == "days":
            return [f"{self.name}__a", f"{self.name}__b"]
        return [self.name]


def referenced_columns(sql: str) -> set[str]:
    """Column names a condition mentions; refuses anything but a plain expression."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as error:
        raise DefinitionError(f"cannot parse {sql!r}: {error}") from None
    for node in tree.walk():
        if isinstance(node, (exp.Select, exp.Subquery, exp.Table, exp.Query)):
            raise DefinitionError(f"{sql!r}: only expressions over the source's columns are allowed")
        if isinstance(node, exp.Column) and node.table:
            raise DefinitionError(f"{sql!r}: columns must not be qualified ({node.sql()})")
    return {c.name for c in tree.find_all(exp.Column)}


def _phase_for(src: Source, condition: str | None) -> str:
    if not condition:
        return "record"
    cols = referenced_columns(condition)
    unknown = cols - set(src.columns)
    if unknown:
        raise DefinitionError(
            f"source {src.name} has no column(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(src.columns)}"
        )
    return "state" if cols & set(src.state) else "record"


_literal = literal  # (the name this module's SQL builders use)


def expand(agg: Aggregation) -> list[FeatureSpec]:
    """One aggregation line -> its feature specs (groups x metrics x windows)."""
    try:
        src = source(agg.source)
    except KeyError as error:
        raise DefinitionError(f"{agg.name}: {error.args[0]}") from None
    groups: list[tuple[str | None, str | None]] = []
    if agg.total or not agg.group_by:
        groups.append((None, None))
    for column in agg.group_by:
        if column not in src.columns:
            raise DefinitionError(f"{agg.name}: source {src.name} has no column {column!r}")
        codes = agg.values.get(column) or src.codes.get(column)
        if not codes:
            raise DefinitionError(f"{agg.name}: give the codes of {column!r} in `values`")
        groups.extend((code, f"{column} = {_literal(code)}") for code in codes)
    specs = []
    for label, group_condition in groups:
        parts = [p for p in (f"({agg.where})" if agg.where else None, group_condition) if p]
        condition = " AND ".join(parts) or None
        phase = _phase_for(src, condition)
        stem = agg.name + (f"_{label}" if label else "")
        for metric in agg.metrics:
            if metric == "sum":
                if not agg.value or agg.value not in src.numeric:
                    raise DefinitionError(f"{agg.name}: sum needs a numeric `value` of {src.name}: "
                                          f"{', '.join(src.numeric) or 'none'}")
            if metric in ("days", "spells") and not src.span:
                raise DefinitionError(f"{agg.name}: {metric} needs a span source")
            if metric == "days" and phase == "state":
                raise DefinitionError(f"{agg.name}: days cannot depend on a decision")
            if metric == "days_since":
                specs.append(FeatureSpec(f"{stem}_days_since", src.name, condition, metric, "all",
                                         None, None, phase))
                continue
            for window in agg.windows:
                what = f"{agg.value}_sum" if metric == "sum" else metric
                specs.append(FeatureSpec(f"{stem}_{what}_{window}", src.name, condition, metric,
                                         window, window_days(window), agg.value, phase))
    return specs


def index_of(day_sql: str, days: list[int]) -> str:
    """SQL for the number of as-of days < day (a balanced CASE tree: log2(n) comparisons)."""

    def tree(lo: int, hi: int) -> str:  # answer is in [lo, hi]
        if lo == hi:
            return str(lo)
        mid = (lo + hi) // 2  # is the answer <= mid?  <=> day <= days[mid]
        return f"CASE WHEN {day_sql} <= {days[mid]} THEN {tree(lo, mid)} ELSE {tree(mid + 1, hi)} END"

    return tree(0, len(days))


@dataclass
class _Branch:
    slot: int
    day: str  # SQL of the breakpoint day (before clamping to vis_day)
    phase: str  # record | state
    conditions: list[str]  # rows needed by at least one feature


@dataclass
class DeltaPlan:
    """How one source's deltas are computed.

    grouped_sql: (officer, idx, <one column per term>) aggregated in SQL (portable).
    points_sql: (officer, idx, v0.., k0..) one row per breakpoint, with each distinct value
    and condition of the terms computed once, for a client to aggregate (terms name them).
    With an officer index relation (officer, oi), `oi` replaces `officer`: a client then
    needs no string look-up per breakpoint, and officers outside the index are dropped.
    """

    grouped_sql: str
    points_sql: str
    terms: list[tuple[str, str, str, str]]  # (column, sum|max, value column, condition column)

    @property
    def columns(self) -> list[str]:
        return [t[0] for t in self.terms]


def source_delta_sql(specs: list[FeatureSpec], src_sql: str, days: list[int],
                     versioned: bool = False) -> tuple[str, list[str]]:
    """SQL of the deltas of one source relation: (officer, idx, <feature columns>)."""
    plan = delta_plan(specs, src_sql, days, versioned=versioned)
    return plan.grouped_sql, plan.columns


def delta_plan(specs: list[FeatureSpec], src_sql: str, days: list[int],
               officer_index: str | None = None, versioned: bool = False) -> DeltaPlan:
    """`versioned`: rows of any phase may stop holding (until_day: a version replaced by a
    correction), so every metric ends them: counts and sums over all time at until_day, span
    days by a negated copy of each breakpoint from until_day on. Without versions only the
    open phases of decisions end, and those plans are what they always were."""
    branches: dict[str, _Branch] = {}

    def branch(key: str, day: str, condition: str | None) -> int:
        key = f"{key}:{phase}"
        if key not in branches:
            branches[key] = _Branch(len(branches), day, phase, [])
        return branches[key].slot

    def branch_uses(br: _Branch, cond: str) -> bool:
        return cond in br.conditions

    until = f"coalesce(until_day, {BIG})"
    terms: list[tuple[str, str, str, str]] = []  # (name, function, value SQL, condition SQL)

    def _agg(function: str, value: str, condition: str, name: str) -> None:
        terms.append((name, function, value, condition))
        # the breakpoints this term reads: the slots its value mentions
        for br in branches.values():
            if re.search(rf"slot = {br.slot}\b|slot IN \([^)]*\b{br.slot}\b", value):
                br.conditions.append(condition)

    for spec in specs:
        cond = spec.condition or "TRUE"
        w = spec.days
        phase = spec.phase
        phase_cond = "phase = 'record'" if phase == "record" else "phase <> 'record'"
        start = branch("S", "vis_day", spec.condition)
        if spec.metric in ("count", "sum"):
            v = "1" if spec.metric == "count" else spec.value
            if w is None:
                end = branch("U", "until_day", spec.condition) if spec.phase == "state" or versioned else None
            else:
                end = branch(f"E{w}", f"least(occ_day + {w}, {until})", spec.condition)
            ends = f" WHEN slot = {end} THEN -({v})" if end is not None else ""
            _agg("sum", f"CASE WHEN slot = {start} THEN {v}{ends} END",
                                   f"{phase_cond} AND ({cond})", spec.name)
        elif spec.metric == "spells":
            end_day = f"end_day + {w}" if w is not None else "NULL"
            end = branch(f"P{w}", f"least(coalesce({end_day}, {BIG}), {until})", spec.condition)
            _agg("sum", f"CASE WHEN slot = {start} THEN 1 WHEN slot = {end} THEN -1 END",
                                   f"{phase_cond} AND ({cond})", spec.name)
        elif spec.metric == "days":
            # f(d) = (d - s + 1) on [s, p1), p1 - s on [p1, p2), e + w - d on [p2, p3), 0 after
            s, e = "start_day", "end_day"
            if w is None:
                parts = [("S", "vis_day", f"1 - {s}", "1"), ("Dall", f"{e} + 1", e, "-1")]
            else:
                p1_sql = f"coalesce(least({e} + 1, {s} + {w}), {s} + {w})"
                parts = [("S", "vis_day", f"1 - {s}", "1"), (f"D1_{w}", p1_sql, f"{p1_sql} - 1", "-1"),
                         (f"D2_{w}", f"CASE WHEN {e} IS NOT NULL THEN greatest({e} + 1, {s} + {w}) END",
                          f"{e} + {w} - ({p1_sql}) + {s}", "-1"),
                         (f"D3_{w}", f"{e} + {w}", f"-({e} + {w})", "1")]
            if versioned:  # from until_day on, each breakpoint is taken back: the row is gone
                parts += [(f"T{key}", f"CASE WHEN until_day IS NOT NULL THEN greatest({day}, until_day) END",
                           f"-({av})", f"-({bv})") for key, day, av, bv in parts]
            slots = [branch(key, day, spec.condition) for key, day, _, _ in parts]
            a = "CASE " + " ".join(f"WHEN slot = {n} THEN {av}" for n, (_, _, av, _) in zip(slots, parts)) + " END"
            b = "CASE " + " ".join(f"WHEN slot = {n} THEN {bv}" for n, (_, _, _, bv) in zip(slots, parts)) + " END"
            _agg("sum", a, f"{phase_cond} AND ({cond})", f"{spec.name}__a")
            _agg("sum", b, f"{phase_cond} AND ({cond})", f"{spec.name}__b")
        elif spec.metric == "days_since":
            # only rows that hold for ever once they exist (a running max cannot forget); rows
            # that stop holding are added date by date (days_since_limited_sql)
            _agg("max", f"CASE WHEN slot = {start} THEN occ_floor_day END",
                 f"{phase_cond} AND until_day IS NULL AND ({cond})", spec.name)
        else:  # pragma: no cover - guarded by the Literal type
            raise DefinitionError(spec.metric)
    # Conditions depend on the source row only: evaluate each once per row (k0, k1...), before
    # the row fans out into its breakpoints.
    conds = list(dict.fromkeys(cond for _, _, _, cond in terms))
    cond_name = {c: f"k{i}" for i, c in enumerate(conds)}
    cond_cols = ", ".join(f"coalesce({c}, false) AS k{i}" for i, c in enumerate(conds))
    union = []
    for br in branches.values():
        phase_cond = "phase = 'record'" if br.phase == "record" else "phase <> 'record'"
        users = [cond_name[cond] for _, _, _, cond in terms if branch_uses(br, cond)]
        needed = " OR ".join(dict.fromkeys(users)) or "FALSE"
        union.append(f"SELECT *, {br.slot} AS slot, greatest({br.day}, vis_day) AS bp_day "
                     f"FROM srck WHERE {phase_cond} AND ({br.day}) IS NOT NULL AND ({needed})")
    n = len(days)
    idx = index_of("bp_day", days)
    def head_sql(srck: str) -> str:
        return (f"WITH src AS ({src_sql}),\n"
                f"srck AS ({srck}),\n"
                f"pts AS ({' UNION ALL '.join(union)}),\n"
                f"ipts AS (SELECT *, {idx} AS idx FROM pts)\n")

    head = head_sql(f"SELECT *, {cond_cols} FROM src")
    aggregates = ", ".join(f"{fn}(CASE WHEN {cond_name[cond]} THEN {value} END) AS {name}"
                           for name, fn, value, cond in terms)
    grouped = f"{head}SELECT officer, idx, {aggregates} FROM ipts WHERE idx < {n} GROUP BY officer, idx"
    values = list(dict.fromkeys(value for _, _, value, _ in terms))
    # DOUBLE, so that the client's float arrays come straight from Arrow without a cast
    value_cols = ", ".join(f"CAST({v} AS DOUBLE) AS v{i}" for i, v in enumerate(values))
    if officer_index:
        # the join is on source rows, before they fan out into breakpoints
        head = head_sql(f"SELECT s.*, o.oi, {cond_cols} FROM src s JOIN {officer_index} o "
                        "ON o.officer = s.officer")
    who = "oi" if officer_index else "officer"
    points = (f"{head}SELECT {who}, idx, {value_cols}, {', '.join(cond_name.values())} "
              f"FROM ipts WHERE idx < {n}")
    named = [(name, fn, f"v{values.index(value)}", cond_name[cond]) for name, fn, value, cond in terms]
    return DeltaPlan(grouped, points, named)


def days_since_condition(spec: FeatureSpec) -> str:
    """The rows a days_since spec reads (while they hold: see days_since_limited_sql)."""
    phase = "phase = 'record'" if spec.phase == "record" else "phase <> 'record'"
    return f"{phase} AND ({spec.condition or 'TRUE'})"


def days_since_limited_sql(specs: list[FeatureSpec], src_sql: str) -> str | None:
    """(officer, idx, <days_since columns>): for the rows that stop holding (an open phase, a
    version replaced by a correction), the latest day of occurrence among those holding on each
    as-of date of `dates`, joined date by date (few rows). NULL where none; the running max
    of the rows that hold for ever is taken with it (greatest)."""
    since = [s for s in specs if s.metric == "days_since"]
    if not since:
        return None
    columns = ", ".join(f"max(CASE WHEN {days_since_condition(s)} THEN s.occ_floor_day END) AS {s.name}"
                        for s in since)
    return (f"SELECT s.officer, d.idx, {columns} FROM ({src_sql}) s JOIN dates d "
            "ON s.until_day IS NOT NULL AND s.vis_day <= d.day AND d.day < s.until_day GROUP BY s.officer, d.idx")
