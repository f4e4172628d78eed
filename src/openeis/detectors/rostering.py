"""Rostering: shift swaps taking premium-rate days far beyond peers in the same team.

Peer-relative and exposure-adjusted: the officer's premium-day swaps against shifts worked
x the peers' premium-day swaps per shift worked (leave-one-out), a Poisson tail p-value,
Benjamini-Hochberg across every officer tested."""

from __future__ import annotations

from openeis.detectors.base import Context, Result
from openeis.detectors.hits import plural
from openeis.detectors.peer_hits import peer_result, with_peer_exposure
from openeis.detectors.period import COHORT
from openeis.detectors.stats import peer_count_test


def premium_day_swaps(ctx: Context) -> Result:
    name = "premium_day_swaps"
    s = ctx.settings(name)
    cfg = ctx.config
    sw, sw_params = ctx.period.where("w")
    dp, dp_params = ctx.period.where("d")
    frame = ctx.store.query_arrow(
        f"""WITH swaps AS (
                SELECT w.officer_id AS officer, count(*) FILTER (WHERE w.premium_day) AS premium,
                       count(*) AS swaps
                FROM shift_swaps w WHERE {sw} GROUP BY 1),
            duty AS (
                SELECT d.officer_id AS officer, sum(d.shifts_worked) AS shifts
                FROM duty_periods d WHERE {dp} GROUP BY 1)
            SELECT k.officer, k.peer_group, coalesce(s.premium, 0) AS premium,
                   coalesce(s.swaps, 0) AS swaps, coalesce(d.shifts, 0)::DOUBLE AS shifts
            FROM {COHORT} k LEFT JOIN swaps s USING (officer) LEFT JOIN duty d USING (officer)
            WHERE coalesce(d.shifts, 0) > 0""",
        [*sw_params, *dp_params]).to_pandas()
    if frame.empty:
        return Result(name, "peer_fdr", 0, [])
    tested = peer_count_test(frame, "premium", "shifts", cfg.fdr, s.min_swaps, cfg.workload_share)
    tested = with_peer_exposure(tested, "shifts")

    def describe(row) -> str:
        return (f"{plural(int(row['premium']), 'shift swap')} onto premium-rate days in the period, "
                f"where {row['shifts']:,.0f} shifts worked at the rate of peers in {row['peer_group']} "
                f"({int(row['peers'])} officers) would give about {row['expected']:.1f}; the peer "
                f"average is {row['peer_mean']:.1f}.")

    return peer_result(ctx, name, tested, lambda officers: _swap_ids(ctx, officers), describe,
                       "premium", "shifts", "shifts worked", "shift_swaps")


def _swap_ids(ctx: Context, officers: list[str]) -> dict[str, list[str]]:
    if not officers:
        return {}
    sw, params = ctx.period.where("w")
    with ctx.store.registered("det_hit_officers", _officers(officers)):
        rows = ctx.store.query(
            f"SELECT w.officer_id, list(w.swap_id ORDER BY w.occurred_at) FROM shift_swaps w "
            f"JOIN det_hit_officers h ON h.officer = w.officer_id WHERE {sw} AND w.premium_day GROUP BY 1",
            params)
    return {o: ids for o, ids in rows}


def _officers(officers: list[str]):
    import pyarrow as pa

    return pa.table({"officer": pa.array(officers, pa.string())})
