"""Overtime and duty: claims inside recorded sickness or annual leave, claims whose hours
overlap, and more hours claimed for one day than a plausible daily maximum. Rule-based."""

from __future__ import annotations

from openeis.detectors.base import Context, Result
from openeis.detectors.hits import Hit, day, evidence, plural
from openeis.detectors.period import COHORT

# An integrity prompt goes to a conduct review, which must not read health data: a sickness
# absence is named for what matters there, that the officer was recorded unfit for duty.
ABSENCE = {"overtime_during_sickness": ("sickness", "absence (unfit for duty)"),
           "overtime_during_leave": ("annual_leave", "annual leave")}


def during_absence(ctx: Context, name: str) -> Result:
    kind, words = ABSENCE[name]
    s = ctx.settings(name)
    where, params = ctx.period.where("c")
    rows = ctx.store.query(
        f"""SELECT c.officer_id, list(DISTINCT c.claim_id), list(DISTINCT a.absence_id),
                   count(DISTINCT c.claim_id), min(c.occurred_at), max(c.occurred_at),
                   sum(c.hours) FILTER (WHERE c.status <> 'rejected')
            FROM overtime_claims c
            JOIN {COHORT} k ON k.officer = c.officer_id
            JOIN absences a ON a.officer_id = c.officer_id AND a.kind = ? AND a.recorded_at <= ?
                 AND c.occurred_at >= a.occurred_at
                 AND c.occurred_at < coalesce(a.ends_at, ?::TIMESTAMP) + INTERVAL 1 DAY
            WHERE {where}
            GROUP BY c.officer_id ORDER BY c.officer_id""",
        [kind, ctx.period.as_of, ctx.period.as_of, *params])
    limit = ctx.config.max_evidence
    hits = []
    for officer, claims, absences, n, first, last, hours in rows:
        when = day(first) if n == 1 else f"between {day(first)} and {day(last)}"
        sentences = [f"Overtime claimed for duty {when} inside recorded {words}: "
                     f"{plural(n, 'claim')}, {plural(len(absences), 'absence record')}.",
                     "Overtime and absence records may simply disagree: check both before "
                     "drawing any conclusion."]
        hits.append(Hit(officer, name, s.prompt_kind, sentences,
                        evidence(sorted(claims), "overtime_claims", limit)
                        + evidence(sorted(absences), "absences", limit),
                        n + len(absences), {"claims": n, "hours_claimed": float(hours or 0)}))
    return Result(name, "rule", _claimants(ctx), hits)


def overlapping(ctx: Context) -> Result:
    name = "overlapping_overtime"
    s = ctx.settings(name)
    where, params = ctx.period.where("c")
    # Each claim against the latest-ending earlier claim of the same officer: one ordered
    # pass (a window), not a self-join.
    rows = ctx.store.query(
        f"""WITH claims AS (
                SELECT c.officer_id, c.claim_id, c.occurred_at, c.ends_at,
                       max(c.ends_at) OVER w AS previous_end,
                       arg_max(c.claim_id, c.ends_at) OVER w AS previous_claim
                FROM overtime_claims c JOIN {COHORT} k ON k.officer = c.officer_id
                WHERE {where} AND c.ends_at IS NOT NULL
                WINDOW w AS (PARTITION BY c.officer_id ORDER BY c.occurred_at, c.claim_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
            pairs AS (
                SELECT officer_id, claim_id, previous_claim, occurred_at,
                       date_diff('minute', occurred_at, least(previous_end, ends_at)) AS minutes
                FROM claims WHERE previous_end > occurred_at)
            SELECT officer_id, count(*), list(previous_claim || ' ' || claim_id ORDER BY occurred_at),
                   min(occurred_at), max(occurred_at), max(minutes)
            FROM pairs WHERE minutes >= ? GROUP BY officer_id ORDER BY officer_id""",
        [*params, s.min_overlap_minutes])
    hits = []
    for officer, n, pairs, first, last, minutes in rows:
        claims = sorted({c for p in pairs for c in p.split(" ")})
        when = day(first) if n == 1 else f"between {day(first)} and {day(last)}"
        sentences = [f"{plural(n, 'overtime claim')} {when} overlap the hours of another claim "
                     f"by the same officer (up to {plural(int(minutes), 'minute')}).",
                     "Duplicate entry or a correction not withdrawn are innocent explanations."]
        hits.append(Hit(officer, name, s.prompt_kind, sentences,
                        evidence(claims, "overtime_claims", ctx.config.max_evidence), len(claims),
                        {"overlapping_claims": n, "max_overlap_minutes": int(minutes)}))
    return Result(name, "rule", _claimants(ctx), hits)


def excessive_hours(ctx: Context) -> Result:
    name = "excessive_overtime_hours"
    s = ctx.settings(name)
    where, params = ctx.period.where("c")
    rows = ctx.store.query(
        f"""WITH days AS (
                SELECT c.officer_id, CAST(c.occurred_at AS DATE) AS on_day, sum(c.hours) AS hours,
                       list(c.claim_id) AS claims
                FROM overtime_claims c JOIN {COHORT} k ON k.officer = c.officer_id
                WHERE {where} GROUP BY ALL HAVING sum(c.hours) > ?)
            SELECT officer_id, count(*), max(hours), list(on_day ORDER BY on_day), flatten(list(claims))
            FROM days GROUP BY officer_id ORDER BY officer_id""",
        [*params, s.max_daily_hours])
    hits = []
    for officer, n, most, days, claims in rows:
        listed = ", ".join(day(d) for d in days[:5]) + (" ..." if len(days) > 5 else "")
        sentences = [f"More than {s.max_daily_hours:g} hours of overtime claimed for "
                     f"{plural(n, 'day')} ({listed}); the most was {most:g} hours in one day."]
        hits.append(Hit(officer, name, s.prompt_kind, sentences,
                        evidence(sorted(claims), "overtime_claims", ctx.config.max_evidence), len(claims),
                        {"days": n, "max_hours": float(most)}))
    return Result(name, "rule", _claimants(ctx), hits)


def _claimants(ctx: Context) -> int:
    where, params = ctx.period.where("c")
    return int(ctx.store.scalar(
        f"SELECT count(DISTINCT c.officer_id) FROM overtime_claims c JOIN {COHORT} k "
        f"ON k.officer = c.officer_id WHERE {where}", params) or 0)
