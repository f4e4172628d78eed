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
- ``until_day``: the first as-of day on which the row no longer holds (NULL: never). The
  *open* phase of a decided record has one: from known_day(decided_at) on, the record is in its
  decided phase instead. So on D, an allegation decided on or after D is `open`, whatever it
  became. A version replaced by a correction has one too (below).
- ``occ_day`` = known_day(occurred_at) (effective: its own day, for postings): windows of w days
  on D hold rows with D < occ_day + w, i.e. occurred on one of the w days before D.
- ``start_day`` / ``end_day``: known days of a span's first and last day (spans only; end_day
  NULL while ongoing). A span counts its days before D only, whatever its recorded end,
  because metrics only ever read the part of it known on D.
- ``occ_floor_day`` / ``rec_floor_day``: the days it occurred / was recorded: `days_since` on D
  is D minus occ_floor_day (1 for yesterday), and label windows [D, D + n months) hold exactly
  what became known on or after D.

Record versions. A record a re-ingest corrected has earlier versions in `<table>_history`
(ingest/versions.py), each the store's truth from `_valid_from` (empty: its first version,
which holds from its own recorded_at) to `_valid_to`; the current row holds from the latest
`_valid_to`. A version is read on D when it holds on D: its start is known on D and its end is
not (the same boundary rule). Source rows of a version start no earlier than known_day of its
start (vis_day) and stop at known_day of its end (``vend_day``, folded into until_day too), so
a correction made after D changes nothing on D, and from it on everything reads the corrected
version as if it had always been there. Tables without history are read as they are, at no
cost (`versioned_tables` decides per build). Window attributes (first_on_complaint) are
computed among the versions that hold together: a record's versions are split into pieces at
every change of its partition (`pieces_by`).

Two kinds of relation exist per source: ``record`` rows (one per record version, state columns
NULL) for definitions that do not look at a decision, and ``state`` rows (an open
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
    # window attributes partition rows by these columns: with versions, rows are split into
    # pieces at each change within a partition, and {piece} in an attribute names the piece
    pieces_by: tuple[str, ...] = ()
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
        # ({complaints}: the complaints' versions as known then, or the table itself)
        "complaint_rec_floor_day": "(SELECT " + floor_day("c.recorded_at")
        + " FROM {complaints} c WHERE c.complaint_id = t.complaint_id{complaint_holds})",
        # the officer's first allegation on a complaint (earliest to exist): counts complaints
        "first_on_complaint": "row_number() OVER (PARTITION BY t.officer_id, t.complaint_id{piece} "
        f"ORDER BY greatest({known_day('t.occurred_at')}, {known_day('t.recorded_at')}), "
        "t.allegation_id) = 1",
    },
    pieces_by=("officer_id", "complaint_id"),
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


Versions = frozenset  # names of the tables that have earlier versions (versioned_tables)
NO_VERSIONS: frozenset[str] = frozenset()


def versioned_tables(store) -> frozenset[str]:
    """The canonical tables (not restricted) with at least one earlier version kept: one query.
    A build reads only these through their versions; every other table as it is."""
    from openeis.features.engine import query_arrow

    tables = [t for t in schema.TABLES if not t.restricted]
    sql = " UNION ALL ".join(
        f"SELECT '{t.name}' AS name WHERE EXISTS (SELECT 1 FROM {t.name}_history)" for t in tables)
    return frozenset(query_arrow(store, sql).column("name").to_pylist())


def versions_sql(name: str, versions: frozenset[str] = NO_VERSIONS) -> str:
    """A canonical table as a relation. Versioned: every version of every record, with
    `_valid_from` (empty: from the record's own recorded_at) and `_valid_to` (empty: current);
    the current row's start is where its latest earlier version ended."""
    table = schema.table(name)
    if name not in versions:
        return table.qualified_name
    columns = [c.name for c in table.columns]
    key = table.key
    history = f"{table.qualified_name}_history"
    return (f"(SELECT {', '.join('c.' + c for c in columns)}, h._valid_to AS _valid_from, "
            f"CAST(NULL AS TIMESTAMP) AS _valid_to FROM {table.qualified_name} c LEFT JOIN "
            f"(SELECT {key}, max(_valid_to) AS _valid_to FROM {history} GROUP BY {key}) h ON h.{key} = c.{key} "
            f"UNION ALL SELECT {', '.join(columns)}, _valid_from, _valid_to FROM {history})")


def holds_at(alias: str, as_of: str, name: str, versions: frozenset[str] = NO_VERSIONS) -> str:
    """SQL ` AND ...`: the version `alias` of a versioned table holds at the as-of instant (its
    start known, its end not); empty for a table without versions."""
    if name not in versions:
        return ""
    return (f" AND ({alias}._valid_from IS NULL OR {known_by(alias + '._valid_from', as_of)}) "
            f"AND NOT {ended_by(alias + '._valid_to', as_of)}")


def _version_days_sql(name: str, versions: frozenset[str]) -> str:
    """The versions of a table with their start and end as as-of days (_vf_day, _vt_day)."""
    return (f"(SELECT v.*, {known_day('v._valid_from')} AS _vf_day, {known_day('v._valid_to')} AS _vt_day "
            f"FROM {versions_sql(name, versions)} v)")


def _pieces_sql(rows: str, by: tuple[str, ...]) -> str:
    """Versions split at every change within their partition (`by`): within a piece, each
    record of the partition has exactly one version, so window attributes over the partition
    and its piece (_piece: the piece's first day, NULL for the first) see what held together."""
    cols = ", ".join(by)
    on = " AND ".join(f"e.{c} = v.{c}" for c in by)
    bounds = (f"(SELECT DISTINCT {cols}, d FROM (SELECT {cols}, _vf_day AS d FROM {rows} b1 UNION ALL "
              f"SELECT {cols}, _vt_day AS d FROM {rows} b2) b WHERE d IS NOT NULL)")
    epochs = (f"(SELECT {cols}, d AS e_from, lead(d) OVER (PARTITION BY {cols} ORDER BY d) AS e_to FROM {bounds} x "
              f"UNION ALL SELECT {cols}, CAST(NULL AS BIGINT) AS e_from, min(d) AS e_to FROM {bounds} y GROUP BY {cols})")
    return (f"(SELECT v.*, greatest(v._vf_day, e.e_from) AS _pf_day, least(v._vt_day, e.e_to) AS _pt_day, "
            f"e.e_from AS _piece FROM {rows} v LEFT JOIN {epochs} e ON {on} "
            "AND (e.e_to IS NULL OR v._vf_day IS NULL OR v._vf_day < e.e_to) "
            "AND (e.e_from IS NULL OR v._vt_day IS NULL OR e.e_from < v._vt_day))")


def source_sql(src: Source, phase: str, officer_filter: str | None = None,
               versions: frozenset[str] = NO_VERSIONS, known_at_day: int | None = None) -> str:
    """The source relation: `record` rows, or `state` rows (open phase + decided phase).

    Columns: officer, occ_day, start_day, end_day, occ_floor_day, rec_floor_day, phase,
    vis_day, until_day, vend_day, then the attributes (and state columns: NULL in record rows).
    With `versions` naming the source's table, every version of a record gives rows for the
    days it holds; `known_at_day` only picks the complaints' version that labels read.
    """
    table = schema.table(src.table)
    assert not table.restricted, "protected tables are never feature sources"
    versioned = src.table in versions
    occ = ceil_day("t.occurred_at") if src.effective else known_day("t.occurred_at")
    vis = f"greatest({occ}, {known_day('t.recorded_at')})"
    if src.span:
        start, end = known_day("t.occurred_at"), known_day("t.ends_at")
    else:
        start, end = "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)"
    # Attributes are computed over the officer's whole table first (window attributes such
    # as first_on_complaint must see every row), then phases are selected from it.
    attributes = {name: _attribute(expr, versions, known_at_day, versioned and bool(src.pieces_by))
                  for name, expr in src.attributes.items()}
    inner_attrs = ", ".join(f"{expr} AS a_{name}" for name, expr in attributes.items())
    inner_where = [w for w in (src.where, officer_filter) if w]
    where_sql = f" WHERE {' AND '.join(inner_where)}" if inner_where else ""
    if not versioned:
        relation, vend = table.name, "CAST(NULL AS BIGINT)"
    else:
        relation, vend = _version_days_sql(src.table, versions), "t._vt_day"
        if src.pieces_by:
            relation = _pieces_sql(relation, src.pieces_by)
            vend = "t._pt_day"
        vis = f"greatest({vis}, {'t._pf_day' if src.pieces_by else 't._vf_day'})"
    inner = f"(SELECT t.*, {inner_attrs} FROM {relation} t{where_sql})"
    attrs = ", ".join(f"t.a_{name} AS {name}" for name in src.attributes)
    base = (f"t.officer_id AS officer, {occ} AS occ_day, {start} AS start_day, {end} AS end_day, "
            f"{floor_day('t.occurred_at')} AS occ_floor_day, {floor_day('t.recorded_at')} AS rec_floor_day")
    if phase == "record" or not src.state:
        nulls = "".join(f", CAST(NULL AS VARCHAR) AS {name}" for name in src.state)
        until = vend if versioned else "CAST(NULL AS BIGINT)"
        return (f"SELECT {base}, 'record' AS phase, {vis} AS vis_day, {until} AS until_day, {vend} AS vend_day, "
                f"{attrs}{nulls} FROM {inner} t")
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
    if versioned:  # a version also ends when a correction replaces it
        until = f"least({until}, {vend})"
    open_rows = (f"SELECT {base}, 'open' AS phase, {vis} AS vis_day, {until} AS until_day, {vend} AS vend_day, "
                 f"{attrs}, {open_state} FROM {inner} t")
    decided_state = ", ".join(f"{expr} AS {name}" for name, expr in src.state.items())
    decided_vis = f"greatest({vis}, coalesce({decided}, {vis}))"
    decided_rows = (f"SELECT {base}, 'decided' AS phase, {decided_vis} AS vis_day, {vend} AS until_day, "
                    f"{vend} AS vend_day, {attrs}, {decided_state} FROM {inner} t WHERE {decided_when}")
    return f"{open_rows}\nUNION ALL\n{decided_rows}"


def _attribute(expr: str, versions: frozenset[str], known_at_day: int | None, pieces: bool) -> str:
    """An attribute's SQL with its placeholders filled: {complaints} (the complaints' versions
    as known at known_at_day, or current), {piece} (the version piece, when split)."""
    if "{complaints}" in expr:
        holds = ""
        if "complaints" in versions:
            holds = (" AND c._valid_to IS NULL" if known_at_day is None else
                     f" AND (c._valid_from IS NULL OR {known_day('c._valid_from')} <= {known_at_day}) "
                     f"AND (c._valid_to IS NULL OR {known_day('c._valid_to')} > {known_at_day})")
        expr = expr.replace("{complaints}", versions_sql("complaints", versions)).replace("{complaint_holds}", holds)
    return expr.replace("{piece}", ", t._piece" if pieces else "")
