"""The cohort: officers serving on each as-of date, as the roster knew it then."""

from __future__ import annotations

from openeis.features.sources import NO_VERSIONS, effective_by, ended_by, holds_at, known_by, versions_sql


def cohort_sql(officer_filter: str | None = None, versions: frozenset[str] = NO_VERSIONS) -> str:
    """(officer, idx, as_of, day) over the `dates` relation.

    An officer is in the cohort on D when the roster entry is known (recorded before D),
    joined_at is on or before D (a joining date applies from its day), and left_at is empty
    or not yet known on D (an end counts from the day after its date: sources.py). The
    roster's current rank and unit are never used (they are today's values): rank and unit
    on D come from postings. A corrected roster entry is read in the version that held on D.
    """
    where = f" AND {officer_filter.format(col='o.officer_id')}" if officer_filter else ""
    return (
        "SELECT o.officer_id AS officer, d.idx, d.as_of, d.day, o.joined_at "
        f"FROM {versions_sql('officers', versions)} o JOIN dates d ON {known_by('o.recorded_at', 'd.as_of')} "
        f"AND {effective_by('o.joined_at', 'd.as_of')} AND NOT {ended_by('o.left_at', 'd.as_of')}"
        f"{holds_at('o', 'd.as_of', 'officers', versions)}{where}"
    )
