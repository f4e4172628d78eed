"""Declarations: secondary income in pay records that no declaration explains. Rule-based."""

from __future__ import annotations

from openeis.detectors.base import Context, Result
from openeis.detectors.hits import Hit, day, evidence, plural
from openeis.detectors.period import COHORT


def undeclared_secondary_income(ctx: Context) -> Result:
    name = "undeclared_secondary_income"
    s = ctx.settings(name)
    where, params = ctx.period.where("e")
    d = ctx.period.as_of
    kinds = ", ".join("?" for _ in s.covering_kinds) or "NULL"
    # Covered: a declaration of a covering kind, known by the as-of date, whose span holds
    # the pay record's date, and not refused (a refusal decided after the as-of date is not
    # known yet).
    rows = ctx.store.query(
        f"""SELECT e.officer_id, count(*), sum(e.value), min(e.occurred_at), max(e.occurred_at),
                   list(e.event_id ORDER BY e.occurred_at)
            FROM other_events e JOIN {COHORT} k ON k.officer = e.officer_id
            WHERE e.event_type = 'secondary_income' AND {where}
              AND NOT EXISTS (
                SELECT 1 FROM declarations r
                WHERE r.officer_id = e.officer_id AND r.kind IN ({kinds}) AND r.recorded_at <= ?
                  AND r.occurred_at <= e.occurred_at AND (r.ends_at IS NULL OR r.ends_at >= e.occurred_at)
                  AND NOT (r.decision = 'refused' AND r.decided_at <= ?))
            GROUP BY e.officer_id HAVING count(*) >= ? ORDER BY e.officer_id""",
        [*params, *s.covering_kinds, d, d, s.min_records])
    hits = []
    for officer, n, total, first, last, ids in rows:
        money = f" (GBP {total:,.0f} in all)" if total is not None else ""
        sentences = [f"{plural(n, 'secondary-income pay record')} between {day(first)} and {day(last)}"
                     f"{money}, and no declaration of {' or '.join(k.replace('_', ' ') for k in s.covering_kinds)} "
                     "in the register covers those dates.",
                     "A declaration may be missing from the register rather than never made: check "
                     "with the officer and the register's keeper."]
        hits.append(Hit(officer, name, s.prompt_kind, sentences,
                        evidence(ids, "other_events", ctx.config.max_evidence), n,
                        {"pay_records": n, "total_value": float(total or 0)}))
    tested = ctx.store.scalar(
        f"SELECT count(DISTINCT e.officer_id) FROM other_events e JOIN {COHORT} k ON k.officer = e.officer_id "
        f"WHERE e.event_type = 'secondary_income' AND {where}", params)
    return Result(name, "rule", int(tested or 0), hits)
