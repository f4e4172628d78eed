"""Event sources: the ONE place where the leakage rules are written.

Every feature, label and cohort reads the canonical tables only through what is built here
(source relations, and the predicates `known_by` / `effective_by` for the roster and postings),
never by its own comparisons of dates.

The boundary rule. The as-of date D is the instant D 00:00: what the force knew when day D
began. A time t is *known* on D when t < D. A date-only value is stored as midnight, so a
value dated D (whatever time of the day it really was) is known from D + 1: what was recorded,
decided or happened on D belongs to the label window that starts at D, never to the features
as of D. A time of day on D (09:00) is known from D + 1 too. So, as day numbers,
known_day(t) = floor_day(t) + 1, the first as-of day on which t is known.

- A record exists on D when its recorded_at and its occurred_at are known on D:
  vis_day = max(known_day(occurred_at), known_day(recorded_at)).
- A decision counts from known_day(decided_at) (the *decided* phase; before it, *open*).
- An end (a span's ends_at, a posting's ends_at, an officer's left_at) has no recorded time of
  its own: it counts only once known, from the day after its date.
- A start the force records in advance applies from its own day once recorded: a posting or a
  joining date d <= D is *effective* on D (effective_by), if its record is known.

Day numbers on a source row (days since 1970-01-01):

- ``vis_day``: the first as-of day on which the row exists (above).
- ``until_day``: the first as-of day on which the row no longer holds (NULL: never). Only the
  *open* phase of a decided record has one: from known_day(decided_at) on, the record is in its
  decided phase instead. So on D, an allegation decided on or after D is `open`, whatever it
  became.
- ``occ_day`` = known_day(occurred_at) (effective: its own day, for postings): windows of w days
  on D hold rows with D < occ_day + w, i.e. occurred on one of the w days before D.
- ``occ_floor_day``: the day it occurred; `days_since` on D is D minus it (1 for yesterday).
- ``start_day`` / ``end_day``: known days of a span's first and last day (spans only; end_day
  NULL while ongoing). A span counts its days before D only, whatever its recorded end,
  because metrics only ever read the part of it known on D.
- ``occ_floor_day`` / ``rec_floor_day``: the days it occurred / was recorded, for label windows
  [D, D + n months), which hold exactly what became known on or after D.

Two kinds of relation exist per source: ``record`` rows (one per record, state columns NULL,
never ending) for definitions that do not look at a decision, and ``state`` rows (an open
phase and, once decided, a decided phase) for definitions that do. Which kind a definition
needs is decided from the columns it mentions (compile.py), so a definition cannot read a
finding before it was decided.

Protected tables (the `restricted` schema) are not sources: nothing here reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openeis import schema


def ceil_day(column: str) -> str:
    """Day number of the first midnight at or after a timestamp: the first as-of day on which
    a start dated then is effective (a date applies from its own day)."""
    return f"CAST(ceil(epoch({column}) / 86400.0) AS BIGINT)"


def floor_day(column: str) -> str:
    """Day number of the day a timestamp falls on."""
    return f"CAST(floor(epoch({column}) / 86400.0) AS BIGINT)"


def known_day(column: str) -> str:
    """The first as-of day on which a time is known: the day after its day (module text)."""
    return f"(CAST(floor(epoch({column}) / 86400.0) AS BIGINT) + 1)"


def known_by(column: str, as_of: str) -> str:
    """SQL: the time `column` is known at the as-of instant `as_of` (a TIMESTAMP)."""
    return f"{column} < {as_of}"


def ended_by(column: str, as_of: str) -> str:
    """SQL: an end (left_at, ends_at; exclusive) is known and reached at `as_of`.

    An end has no recorded time of its own, so it counts from the day after its date like
    any date: known_by. NULL (no end yet) is never ended."""
    return f"({column} IS NOT NULL AND {known_by(column, as_of)})"


def effective_by(column: str, as_of: str) -> str:
    """SQL: a start recorded in advance (joined_at, a posting's occurred_at) applies at `as_of`:
    from its own day on. Whether its record is known is a separate known_by on recorded_at."""
    return f"{column} <= {as_of}"


@dataclass(frozen=True)
class Source:
    name: str
    table: str
    # attribute name -> SQL expression over the raw table (alias t)
    attributes: dict[str, str]
    # attributes known only once decided (NULL / the undecided code before decided_at)
    state: dict[str, str] = field(default_factory=dict)
    undecided: tuple[str, ...] = ()  # codes of the state's first column meaning "not decided"
    decision_needs_date: bool = True  # a decided value without decided_at never counts
    span: bool = False
    # occurred_at is when a change takes effect (a posting's start): it applies from its own
    # day, once its record is known (effective_by), rather than from the day after
    effective: bool = False
    where: str | None = None  # rows of the table that belong to the source
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    numeric: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.attributes) + tuple(self.state)


def _codes(table: str, *columns: str) -> dict[str, tuple[str, ...]]:
    t = schema.table(table)
    return {c: t.column(c).codes for c in columns if t.column(c).codes}


SOURCES: dict[str, Source] = {}


def _add(source: Source) -> None:
    SOURCES[source.name] = source


_add(Source(
    "allegations", "allegations",
    attributes={
        "category": "t.category",
        "complaint_id": "t.complaint_id",
        # for labels on "a complaint recorded in [D, D + 12 months)"
        "complaint_rec_floor_day": "(SELECT " + floor_day("c.recorded_at")
        + " FROM complaints c WHERE c.complaint_id = t.complaint_id)",
        # the officer's first allegation on a complaint (earliest to exist): counts complaints
        "first_on_complaint": "row_number() OVER (PARTITION BY t.officer_id, t.complaint_id "
        f"ORDER BY greatest({known_day('t.occurred_at')}, {known_day('t.recorded_at')}), "
        "t.allegation_id) = 1",
    },
    state={"finding": "t.finding", "outcome": "t.outcome"},
    undecided=("open",),
    codes=_codes("allegations", "category", "finding", "outcome"),
))
_add(Source(
    "use_of_force", "use_of_force",
    attributes={
        "force_type": "t.force_type",
        "subject_injured": "coalesce(t.subject_injured, false)",
        "officer_injured": "coalesce(t.officer_injured, false)",
    },
    codes=_codes("use_of_force", "force_type"),
))
_add(Source(
    "absences", "absences",
    attributes={"kind": "t.kind", "reason": "t.reason"},
    span=True,
    codes=_codes("absences", "kind", "reason"),
))
_add(Source(
    "duty_periods", "duty_periods",
    attributes={
        "shifts_worked": "CAST(t.shifts_worked AS DOUBLE)",
        "planned_shifts": "CAST(t.planned_shifts AS DOUBLE)",
        "missed_shifts": "CAST(greatest(t.planned_shifts - t.shifts_worked, 0) AS DOUBLE)",
        "hours_on_duty": "coalesce(t.hours_on_duty, 0)",
        "arrests": "CAST(coalesce(t.arrests, 0) AS DOUBLE)",
    },
    numeric=("shifts_worked", "planned_shifts", "missed_shifts", "hours_on_duty", "arrests"),
))
_add(Source(
    "overtime_claims", "overtime_claims",
    attributes={"hours": "t.hours", "rate": "t.rate", "reason": "t.reason"},
    state={"status": "t.status"},
    undecided=("pending",),
    codes=_codes("overtime_claims", "rate", "reason", "status"),
    numeric=("hours",),
))
_add(Source(
    "shift_swaps", "shift_swaps",
    attributes={"premium_day": "coalesce(t.premium_day, false)"},
))
_add(Source(
    "performance_reviews", "performance_reviews",
    attributes={"rating": "t.rating"},
    codes=_codes("performance_reviews", "rating"),
))
_add(Source(
    "training", "training",
    attributes={"category": "t.category", "result": "t.result"},
    codes=_codes("training", "category", "result"),
))
_add(Source(
    "commendations", "commendations",
    attributes={"kind": "t.kind"},
    codes=_codes("commendations", "kind"),
))
_add(Source(
    "system_access", "system_access",
    attributes={
        "record_kind": "t.record_kind",
        "system": "t.system",
        "no_case_reference": "(t.case_reference IS NULL OR t.case_reference = '')",
        "night": "(EXTRACT(hour FROM t.occurred_at) >= 23 OR EXTRACT(hour FROM t.occurred_at) < 7)",
    },
    codes=_codes("system_access", "record_kind"),
))
_add(Source(
    "declarations", "declarations",
    attributes={"kind": "t.kind"},
    state={"decision": "t.decision"},
    undecided=("pending",),
    span=True,
    codes=_codes("declarations", "kind", "decision"),
))
_add(Source(
    "other_events", "other_events",
    attributes={"event_type": "t.event_type", "subtype": "t.subtype",
                "value": "coalesce(t.value, 0)"},
    state={"outcome": "t.outcome"},
    undecided=(),  # an outcome with no decided_at was known when recorded
    decision_needs_date=False,
    numeric=("value",),
))
_add(Source(
    "postings", "postings",
    attributes={"unit_id": "t.unit_id", "role": "t.role", "rank": "t.rank"},
    effective=True,
    codes=_codes("postings", "role", "rank"),
))


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown feature source {name!r}; known: {', '.join(SOURCES)}") from None


def source_sql(src: Source, phase: str, officer_filter: str | None = None) -> str:
    """The source relation: `record` rows, or `state` rows (open phase + decided phase).

    Columns: officer, occ_day, vis_day, until_day, start_day, end_day, then the attributes
    (and state columns: NULL in record rows).
    """
    table = schema.table(src.table)
    assert not table.restricted, "protected tables are never feature sources"
    occ = ceil_day("t.occurred_at") if src.effective else known_day("t.occurred_at")
    vis = f"greatest({occ}, {known_day('t.recorded_at')})"
    if src.span:
        start, end = known_day("t.occurred_at"), known_day("t.ends_at")
    else:
        start, end = "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)"
    # Attributes are computed over the officer's whole table first (window attributes such
    # as first_on_complaint must see every row), then phases are selected from it.
    inner_attrs = ", ".join(f"{expr} AS a_{name}" for name, expr in src.attributes.items())
    inner_where = [w for w in (src.where, officer_filter) if w]
    inner = (f"(SELECT t.*, {inner_attrs} FROM {table.name} t"
             + (f" WHERE {' AND '.join(inner_where)}" if inner_where else "") + ")")
    attrs = ", ".join(f"t.a_{name} AS {name}" for name in src.attributes)
    wheres: list[str] = []
    where = ""
    base = (f"t.officer_id AS officer, {occ} AS occ_day, {start} AS start_day, {end} AS end_day, "
            f"{floor_day('t.occurred_at')} AS occ_floor_day, {floor_day('t.recorded_at')} AS rec_floor_day")
    if phase == "record" or not src.state:
        nulls = "".join(f", CAST(NULL AS VARCHAR) AS {name}" for name in src.state)
        return (f"SELECT {base}, 'record' AS phase, {vis} AS vis_day, CAST(NULL AS BIGINT) AS until_day, {attrs}{nulls} "
                f"FROM {inner} t{where}")
    first, *_ = src.state
    decided = known_day("t.decided_at")
    if src.undecided:
        undecided_list = ", ".join(f"'{code}'" for code in src.undecided)
        is_undecided = f"(t.{first} IS NULL OR t.{first} IN ({undecided_list}))"
        open_value = {first: f"'{src.undecided[0]}'"}
    else:
        is_undecided = f"(t.{first} IS NULL)"
        open_value = {}
    # Open phase: every record, from when it exists until its decision (if any).
    open_state = ", ".join(f"{open_value.get(name, 'CAST(NULL AS VARCHAR)')} AS {name}" for name in src.state)
    if src.decision_needs_date:
        decided_when = f"NOT {is_undecided} AND t.decided_at IS NOT NULL"
        until = f"CASE WHEN {decided_when} THEN {decided} END"
    else:
        decided_when = f"NOT {is_undecided}"
        until = f"CASE WHEN {decided_when} THEN coalesce({decided}, {vis}) END"
    open_rows = (f"SELECT {base}, 'open' AS phase, {vis} AS vis_day, {until} AS until_day, {attrs}, {open_state} "
                 f"FROM {inner} t{where}")
    decided_state = ", ".join(f"{expr} AS {name}" for name, expr in src.state.items())
    decided_vis = f"greatest({vis}, coalesce({decided}, {vis}))"
    decided_where = f" WHERE {decided_when}" + (f" AND {' AND '.join(wheres)}" if wheres else "")
    decided_rows = (f"SELECT {base}, 'decided' AS phase, {decided_vis} AS vis_day, CAST(NULL AS BIGINT) AS until_day, "
                    f"{attrs}, {decided_state} FROM {inner} t{decided_where}")
    return f"{open_rows}\nUNION ALL\n{decided_rows}"
