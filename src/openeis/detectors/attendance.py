"""Attendance: the Bradford factor (spells squared x days over a rolling 52 weeks) over the
threshold an attendance policy names. A welfare prompt, never a misconduct one. Rule-based."""

from __future__ import annotations

from openeis.detectors.base import Context, Result
from openeis.detectors.hits import Hit, day, evidence, plural
from openeis.detectors.period import COHORT


def high_bradford_factor(ctx: Context) -> Result:
    name = "high_bradford_factor"
    s = ctx.settings(name)
    where, params = ctx.period.where("a")
    d = ctx.period.as_of
    # Every window starts at one of the officer's spells: the worst 52 weeks of the period.
    rows = ctx.store.query(
        f"""WITH spells AS (
                SELECT a.officer_id AS officer, a.absence_id, a.occurred_at AS starts,
                       date_diff('day', a.occurred_at, least(coalesce(a.ends_at, ?::TIMESTAMP), ?::TIMESTAMP)) + 1 AS days
                FROM absences a JOIN {COHORT} k ON k.officer = a.officer_id
                WHERE a.kind = 'sickness' AND {where}),
            short AS (SELECT * FROM spells WHERE days <= ?),
            windows AS (
                SELECT w.officer, w.starts AS opens, count(*) AS spells, sum(x.days) AS days,
                       count(*) * count(*) * sum(x.days) AS bradford,
                       list(x.absence_id ORDER BY x.starts) AS ids
                FROM short w JOIN short x ON x.officer = w.officer AND x.starts >= w.starts
                     AND x.starts < w.starts + to_days(?)
                GROUP BY w.officer, w.starts)
            SELECT officer, max(bradford), arg_max(opens, bradford), arg_max(spells, bradford),
                   arg_max(days, bradford), arg_max(ids, bradford)
            FROM windows GROUP BY officer HAVING max(bradford) >= ? ORDER BY officer""",
        [d, d, *params, s.max_spell_days, s.window_days, s.threshold])
    hits = []
    for officer, bradford, opens, spells, days, ids in rows:
        sentences = [f"Bradford factor {bradford:,.0f} over the {s.window_days} days from {day(opens)}: "
                     f"{plural(int(spells), 'sickness spell')} of at most {s.max_spell_days} days, "
                     f"{plural(int(days), 'day')} in all (spells squared x days; the policy threshold is "
                     f"{s.threshold:,.0f}).",
                     "A welfare prompt under the attendance policy, for a supportive conversation: "
                     "not a misconduct concern."]
        hits.append(Hit(officer, name, s.prompt_kind, sentences,
                        evidence(ids, "absences", ctx.config.max_evidence), len(ids),
                        {"bradford_factor": float(bradford), "spells": int(spells), "days": int(days)}))
    tested = ctx.store.scalar(f"SELECT count(*) FROM {COHORT}")
    return Result(name, "rule", int(tested or 0), hits)
