"""The period a detector run examines, and the cohort with its peer groups on the as-of date.

A record counts when it happened inside [start, as_of] and was recorded by as_of (the
instant as_of 00:00, as in features): a run on a past date sees only what was known then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from openeis.config.detectors import DetectorsConfig
from openeis.store import Store

COHORT = "det_cohort"


@dataclass(frozen=True)
class Period:
    as_of: date
    start: date

    @classmethod
    def ending(cls, as_of: date, config: DetectorsConfig) -> "Period":
        return cls(as_of, as_of - timedelta(days=config.lookback_days))

    def where(self, alias: str = "t", occurred: str = "occurred_at") -> tuple[str, list]:
        """SQL condition (and its parameters) for rows of `alias` inside the period."""
        return (f"{alias}.{occurred} >= ? AND {alias}.{occurred} <= ? AND {alias}.recorded_at <= ?",
                [self.start, self.as_of, self.as_of])


def build_cohort(store: Store, period: Period, min_peer_group: int) -> int:
    """Temp table det_cohort(officer, unit_id, role, peer_group): officers who served at some
    time in the period (leavers too: conduct can be looked into after someone leaves), with
    their last posting in it. Peers are the same unit and role; groups smaller than
    min_peer_group fall back to the same role force-wide."""
    d = period.as_of
    store.execute(f"DROP TABLE IF EXISTS {COHORT}")
    store.execute(
        f"""CREATE TEMP TABLE {COHORT} AS
        WITH serving AS (
            SELECT officer_id AS officer FROM officers
            WHERE recorded_at <= ? AND joined_at <= ? AND (left_at IS NULL OR left_at > ?)),
        posted AS (
            SELECT officer_id AS officer, arg_max(unit_id, occurred_at) AS unit_id,
                   arg_max(role, occurred_at) AS role
            FROM postings
            WHERE occurred_at <= ? AND recorded_at <= ? AND (ends_at IS NULL OR ends_at >= ?)
            GROUP BY officer_id),
        placed AS (
            SELECT s.officer, coalesce(p.unit_id, 'none') AS unit_id, coalesce(p.role, 'unknown') AS role
            FROM serving s LEFT JOIN posted p USING (officer))
        SELECT officer, unit_id, role,
               CASE WHEN count(*) OVER (PARTITION BY unit_id, role) >= ?
                    THEN 'unit ' || unit_id || ', ' || role ELSE 'role ' || role END AS peer_group
        FROM placed""",
        [d, d, period.start, d, d, period.start, min_peer_group],
    )
    return int(store.scalar(f"SELECT count(*) FROM {COHORT}"))
