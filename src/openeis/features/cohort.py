"""The cohort: officers serving on each as-of date, as the roster knew it then."""

from __future__ import annotations


def cohort_sql(officer_filter: str | None = None) -> str:
    """(officer, idx, as_of, day) over the `dates` relation.

    An officer is in the cohort on D when the roster entry exists (recorded_at <= D),
    joined_at <= D, and left_at is empty or after D. The roster's current rank and unit are
    never used (they are today's values): rank and unit on D come from postings.
    """
    where = f" AND {officer_filter.format(col='o.officer_id')}" if officer_filter else ""
    return (
        "SELECT o.officer_id AS officer, d.idx, d.as_of, d.day, o.joined_at "
        "FROM officers o JOIN dates d ON o.recorded_at <= d.as_of AND o.joined_at <= d.as_of "
        f"AND (o.left_at IS NULL OR o.left_at > d.as_of){where}"
    )
