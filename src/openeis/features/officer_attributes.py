"""Tenure, rank, role and unit on the as-of date, from the posting held then."""

from __future__ import annotations

from openeis.features.sources import NO_VERSIONS, effective_by, ended_by, floor_day, holds_at, known_by, versions_sql
from openeis.schema import RANKS

RANK_LEVEL = {rank: level for level, rank in enumerate(RANKS[:7], start=1)} | {"staff": 0}

# (name, SQL over grid g and current posting c, kind)
ATTRIBUTE_COLUMNS = (
    "tenure_days", "posting_rank", "rank_level", "posting_role", "unit_function", "peer_unit",
    "days_in_posting",
)


def current_posting_sql(versions: frozenset[str] = NO_VERSIONS) -> str:
    """The posting active on each grid row: recorded before D, started on or before D, and not
    ended as known on D (ends_at is exclusive and, like every end, counts from the day after
    its date: sources.py). A posting whose recorded end is D or later is ongoing on D.
    The latest-starting active posting wins when several overlap. Corrected postings and units
    are read in the version that held on D.
    """
    return (
        "SELECT officer, idx, unit_id, role, rank, start_day, unit_function FROM ("
        "SELECT g.officer, g.idx, p.unit_id, p.role, p.rank, "
        f"{floor_day('p.occurred_at')} AS start_day, u.function AS unit_function, "
        "row_number() OVER (PARTITION BY g.officer, g.idx ORDER BY p.occurred_at DESC, p.posting_id DESC) AS rn "
        f"FROM grid g JOIN {versions_sql('postings', versions)} p ON p.officer_id = g.officer "
        f"AND {known_by('p.recorded_at', 'g.as_of')} "
        f"AND {effective_by('p.occurred_at', 'g.as_of')} AND NOT {ended_by('p.ends_at', 'g.as_of')}"
        f"{holds_at('p', 'g.as_of', 'postings', versions)} "
        f"LEFT JOIN {versions_sql('units', versions)} u ON u.unit_id = p.unit_id "
        f"AND {known_by('u.recorded_at', 'g.as_of')}{holds_at('u', 'g.as_of', 'units', versions)}"
        ") x WHERE rn = 1"
    )


def attribute_select(grid: str = "g", current: str = "cp") -> list[str]:
    levels = " ".join(f"WHEN '{rank}' THEN {level}" for rank, level in RANK_LEVEL.items())
    return [
        f"{grid}.day - {floor_day(grid + '.joined_at')} AS tenure_days",
        f"{current}.rank AS posting_rank",
        f"CASE {current}.rank {levels} END AS rank_level",
        f"{current}.role AS posting_role",
        f"{current}.unit_function AS unit_function",
        f"{current}.unit_id AS peer_unit",
        f"{grid}.day - {current}.start_day AS days_in_posting",
    ]
