"""IT access: look-ups without a case reference, repeated look-ups of one subject,
out-of-hours look-ups, and bursts of look-ups of one person soon after a complaint about
the officer. All peer-relative (unit and role on the as-of date), with Benjamini-Hochberg
control across the officers tested.

The access log is the biggest table a force has, so it is read in few set-based passes:
one GROUP BY officer for the per-officer counts, one GROUP BY (officer, subject) keeping
only subjects looked up often, one join to the complaint windows; evidence is read only for
the officers hit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa

from openeis.detectors.base import Context, Result
from openeis.detectors.hits import Hit, day, evidence, plural
from openeis.detectors.peer_hits import peer_result, with_peer_exposure
from openeis.detectors.period import COHORT
from openeis.detectors.stats import bh_adjusted, leave_one_out, peer_count_test, repeat_p

MONTHS = "det_access_months"
ROWS_PER_PART = 25_000_000  # look-ups per pass of the repeated-subject aggregation
COUNTS = ("no_case", "out_of_hours")


def access_stats(ctx: Context) -> pd.DataFrame:
    """Per cohort officer: look-ups, subjects (distinct within a month, approximate), look-ups
    without a case reference and out-of-hours look-ups, and for the last two the number
    expected from peers.

    One pass over the period's access log, grouped by officer and month. The
    expectation is built month by month from the unit the officer worked for that month
    (duty_periods), so an officer who moved from a 24/7 team to a day team is compared with
    each team for the months they were in it: the officer's own duty pattern, not only
    today's posting."""
    oh = ctx.settings("out_of_hours_lookups")
    where, params = ctx.period.where("a")
    ctx.store.execute(f"DROP TABLE IF EXISTS {MONTHS}")
    ctx.store.execute(
        f"""CREATE TEMP TABLE {MONTHS} AS
            SELECT a.officer_id AS officer, date_trunc('month', a.occurred_at) AS month,
                   count(*) AS lookups, approx_count_distinct(a.subject_id) AS subjects,
                   count(*) FILTER (WHERE a.case_reference IS NULL) AS no_case,
                   count(*) FILTER (WHERE hour(a.occurred_at) >= ? AND hour(a.occurred_at) < ?) AS out_of_hours
            FROM system_access a SEMI JOIN {COHORT} k ON k.officer = a.officer_id
            WHERE {where}
            GROUP BY a.officer_id, date_trunc('month', a.occurred_at)""",
        [oh.start_hour, oh.end_hour, *params])
    months = ctx.store.query_arrow(
        f"""SELECT m.officer, coalesce(arg_max(d.unit_id, d.shifts_worked), 'none') AS unit,
                   any_value(m.lookups)::DOUBLE AS lookups, any_value(m.no_case) AS no_case,
                   any_value(m.out_of_hours) AS out_of_hours
            FROM {MONTHS} m LEFT JOIN duty_periods d ON d.officer_id = m.officer
                 AND date_trunc('month', d.occurred_at) = m.month AND d.recorded_at <= ?
            GROUP BY m.officer, m.month""", [ctx.period.as_of]).to_pandas()
    # Subjects are counted distinct within each month and summed: repeated look-ups of one
    # subject are case work within weeks, and one pass by month is all the access log gets.
    frame = ctx.store.query_arrow(
        f"""SELECT k.officer, k.peer_group, sum(m.lookups)::DOUBLE AS lookups,
                   sum(m.subjects)::DOUBLE AS subjects, sum(m.no_case) AS no_case,
                   sum(m.out_of_hours) AS out_of_hours
            FROM {COHORT} k JOIN {MONTHS} m ON m.officer = k.officer
            GROUP BY k.officer, k.peer_group ORDER BY k.officer""").to_pandas()
    ctx.store.execute(f"DROP TABLE IF EXISTS {MONTHS}")
    if frame.empty:
        return frame
    for count in COUNTS:
        frame = frame.merge(_expected_by_unit(months, count, ctx.config.min_peer_group), on="officer", how="left")
        frame[f"expected_{count}"] = frame[f"expected_{count}"].fillna(0.0)
    repeats = (frame["lookups"] - np.minimum(frame["subjects"], frame["lookups"])).clip(lower=0)
    frame["repeats"] = repeats
    # Peers' share of look-ups that repeat a subject already looked up (case work).
    frame["repeat_share"] = (leave_one_out(frame, "repeats") + 0.5) / (leave_one_out(frame, "lookups") + 1)
    return frame


def _expected_by_unit(months: pd.DataFrame, count: str, min_officers: int) -> pd.DataFrame:
    """Per officer: sum over their months of look-ups x the rate of `count` per look-up among
    the other officers of that month's unit (units with fewer than min_officers pooled)."""
    m = months[["officer", "unit", "lookups", count]].copy()
    size = m.groupby("unit")["officer"].transform("nunique")
    m["unit"] = m["unit"].where(size >= min_officers, "small units")
    unit_k = m.groupby("unit")[count].transform("sum")
    unit_e = m.groupby("unit")["lookups"].transform("sum")
    own_k = m.groupby(["officer", "unit"])[count].transform("sum")
    own_e = m.groupby(["officer", "unit"])["lookups"].transform("sum")
    rate = (unit_k - own_k + 0.5) / (unit_e - own_e + 1.0)
    m["expected"] = m["lookups"] * rate
    return m.groupby("officer", as_index=False)["expected"].sum().rename(columns={"expected": f"expected_{count}"})


def _peer_hits(ctx: Context, stats: pd.DataFrame, name: str, count: str, min_count: int,
               describe, condition: str) -> Result:
    cfg = ctx.config
    if stats.empty:
        return Result(name, "peer_fdr", 0, [])
    tested = peer_count_test(stats[["officer", "peer_group", count, "lookups", f"expected_{count}"]],
                             count, "lookups", cfg.fdr, min_count, cfg.workload_share,
                             expected=stats[f"expected_{count}"].to_numpy())
    tested = with_peer_exposure(tested, "lookups")
    return peer_result(ctx, name, tested, lambda officers: _access_ids(ctx, officers, condition), describe,
                       count, "lookups", "look-ups made", "system_access")


def without_case_reference(ctx: Context, stats: pd.DataFrame) -> Result:
    s = ctx.settings("lookups_without_case_reference")

    def describe(row) -> str:
        return (f"{plural(int(row['no_case']), 'look-up')} with no case reference, out of "
                f"{row['lookups']:,.0f}; at the rate of the officer's units' other members about "
                f"{row['expected']:.1f} would be expected.")

    return _peer_hits(ctx, stats, "lookups_without_case_reference", "no_case", s.min_lookups,
                      describe, "a.case_reference IS NULL")


def out_of_hours(ctx: Context, stats: pd.DataFrame) -> Result:
    s = ctx.settings("out_of_hours_lookups")
    hours = f"{s.start_hour:02d}:00 and {s.end_hour:02d}:00"

    def describe(row) -> str:
        return (f"{plural(int(row['out_of_hours']), 'look-up')} between {hours}, out of "
                f"{row['lookups']:,.0f}; the duty pattern of the units the officer worked in gives "
                f"about {row['expected']:.1f} at those hours.")

    condition = f"hour(a.occurred_at) >= {int(s.start_hour)} AND hour(a.occurred_at) < {int(s.end_hour)}"
    return _peer_hits(ctx, stats, "out_of_hours_lookups", "out_of_hours", s.min_lookups, describe,
                      condition)


def repeated_subject(ctx: Context, stats: pd.DataFrame) -> Result:
    """The officer's most looked-up subject against the peers' case-work repeat pattern."""
    name = "repeated_subject_lookups"
    s = ctx.settings(name)
    cfg = ctx.config
    if stats.empty:
        return Result(name, "peer_fdr", 0, [])
    where, params = ctx.period.where("a")
    # Nearly every (officer, subject) pair is its own group, so the aggregation holds about
    # as many groups as look-ups: officers are split into parts, each read in its own pass,
    # to bound memory at ROWS_PER_PART look-ups' worth of groups.
    parts = max(1, math.ceil(float(stats["lookups"].sum()) / ROWS_PER_PART))
    top = pd.concat([ctx.store.query_arrow(
        f"""SELECT officer, arg_max(subject_id, n) AS subject, max(n) AS top FROM (
                SELECT a.officer_id AS officer, a.subject_id, count(*) AS n
                FROM system_access a JOIN {COHORT} t ON t.officer = a.officer_id
                WHERE {where} AND a.subject_id IS NOT NULL AND hash(a.officer_id) % ? = ?
                GROUP BY 1, 2 HAVING count(*) >= ?)
            GROUP BY officer""", [*params, parts, part, s.min_lookups]).to_pandas()
        for part in range(parts)], ignore_index=True)
    frame = stats.merge(top, on="officer", how="left")
    frame["top"] = frame["top"].fillna(0)
    frame["p"] = repeat_p(frame["top"].to_numpy(), frame["subjects"].to_numpy(),
                          frame["repeat_share"].to_numpy())
    frame["q"] = bh_adjusted(frame["p"].to_numpy())
    hit_rows = frame[(frame["top"] >= s.min_lookups) & (frame["q"] <= cfg.fdr)]
    records = _subject_ids(ctx, hit_rows[["officer", "subject"]])
    hits = []
    for _, row in hit_rows.iterrows():
        sentences = [f"One subject looked up {int(row['top'])} times in the period (of "
                     f"{row['lookups']:,.0f} look-ups); peers in {row['peer_group']} repeat a "
                     f"subject on {row['repeat_share']:.0%} of look-ups, which makes so many "
                     "look-ups of one subject very unlikely as case work alone.",
                     f"Beyond chance across all officers tested (false-discovery rate {cfg.fdr:g})."]
        ids = records.get(row["officer"], [])
        hits.append(Hit(row["officer"], name, s.prompt_kind, sentences,
                        evidence(ids, "system_access", cfg.max_evidence), len(ids),
                        {"top_subject_lookups": int(row["top"]), "lookups": float(row["lookups"]),
                         "peer_repeat_share": round(float(row["repeat_share"]), 4),
                         "peer_group": row["peer_group"], "p": float(row["p"]), "q": float(row["q"])}))
    return Result(name, "peer_fdr", len(frame), hits)


def after_complaint(ctx: Context, stats: pd.DataFrame) -> Result:
    """Many look-ups of one subject within days of a complaint about the officer."""
    name = "lookups_after_complaint"
    s = ctx.settings(name)
    cfg = ctx.config
    if stats.empty:
        return Result(name, "peer_fdr", 0, [])
    p = ctx.period
    ctx.store.execute("DROP TABLE IF EXISTS det_complaint_windows")
    ctx.store.execute(
        f"""CREATE TEMP TABLE det_complaint_windows AS
            SELECT DISTINCT al.officer_id AS officer, c.complaint_id, c.recorded_at AS opens,
                   c.recorded_at + to_days(?) AS closes
            FROM allegations al JOIN complaints c USING (complaint_id)
            JOIN {COHORT} t ON t.officer = al.officer_id
            WHERE al.recorded_at <= ? AND c.recorded_at <= ? AND c.recorded_at >= ?""",
        [s.window_days + 1, p.as_of, p.as_of, p.start])
    where, params = p.where("a")
    bursts = ctx.store.query_arrow(
        f"""WITH inside AS (
                SELECT w.officer, w.complaint_id, w.opens, a.subject_id, count(*) AS n,
                       list(a.access_id ORDER BY a.occurred_at) AS ids
                FROM system_access a JOIN det_complaint_windows w ON w.officer = a.officer_id
                     AND a.occurred_at >= w.opens AND a.occurred_at < w.closes
                WHERE {where} GROUP BY ALL),
            per_window AS (
                SELECT officer, complaint_id, opens, count(*) AS subjects, max(n) AS top,
                       arg_max(ids, n) AS ids
                FROM inside GROUP BY ALL)
            SELECT * FROM per_window""", params).to_pandas()
    windows = int(ctx.store.scalar("SELECT count(DISTINCT officer) FROM det_complaint_windows") or 0)
    if bursts.empty:
        return Result(name, "peer_fdr", windows, [])
    bursts = bursts.merge(stats[["officer", "peer_group", "repeat_share"]], on="officer")
    bursts["p"] = repeat_p(bursts["top"].to_numpy(), bursts["subjects"].to_numpy(),
                           bursts["repeat_share"].to_numpy())
    # One test per officer (their most unusual window), BH across officers with a complaint.
    best = bursts.sort_values(["officer", "p"]).drop_duplicates("officer")
    p_all = np.ones(max(windows, len(best)))
    p_all[: len(best)] = best["p"].to_numpy()
    best = best.assign(q=bh_adjusted(p_all)[: len(best)])
    hit_rows = best[(best["top"] >= s.min_lookups) & (best["q"] <= cfg.fdr)]
    hits = []
    for _, row in hit_rows.iterrows():
        ids = list(row["ids"])
        sentences = [f"One person looked up {int(row['top'])} times within {s.window_days} days "
                     f"after a complaint about the officer was received on {day(row['opens'])}; "
                     f"peers in {row['peer_group']} repeat a subject on {row['repeat_share']:.0%} "
                     "of look-ups.",
                     "This can be legitimate case work; it is listed because look-ups soon after a "
                     "complaint can be retaliation.",
                     f"Beyond chance across the officers with a complaint (false-discovery rate {cfg.fdr:g})."]
        hits.append(Hit(row["officer"], name, s.prompt_kind, sentences,
                        evidence(ids, "system_access", cfg.max_evidence)
                        + [{"table": "complaints", "record": row["complaint_id"]}],
                        len(ids) + 1,
                        {"lookups_of_one_subject": int(row["top"]), "complaint_received": str(row["opens"])[:10],
                         "peer_repeat_share": round(float(row["repeat_share"]), 4),
                         "p": float(row["p"]), "q": float(row["q"])}))
    return Result(name, "peer_fdr", windows, hits)


def _access_ids(ctx: Context, officers: list[str], condition: str) -> dict[str, list[str]]:
    if not officers:
        return {}
    where, params = ctx.period.where("a")
    with ctx.store.registered("det_hit_officers", pa.table({"officer": pa.array(officers, pa.string())})):
        rows = ctx.store.query(
            f"SELECT a.officer_id, list(a.access_id ORDER BY a.occurred_at) FROM system_access a "
            f"JOIN det_hit_officers h ON h.officer = a.officer_id WHERE {where} AND {condition} GROUP BY 1",
            params)
    return {o: ids for o, ids in rows}


def _subject_ids(ctx: Context, pairs: pd.DataFrame) -> dict[str, list[str]]:
    if pairs.empty:
        return {}
    where, params = ctx.period.where("a")
    data = pa.table({"officer": pa.array(pairs["officer"].tolist(), pa.string()),
                     "subject": pa.array(pairs["subject"].tolist(), pa.string())})
    with ctx.store.registered("det_hit_subjects", data):
        rows = ctx.store.query(
            f"SELECT a.officer_id, list(a.access_id ORDER BY a.occurred_at) FROM system_access a "
            f"JOIN det_hit_subjects h ON h.officer = a.officer_id AND h.subject = a.subject_id "
            f"WHERE {where} GROUP BY 1", params)
    return {o: ids for o, ids in rows}
