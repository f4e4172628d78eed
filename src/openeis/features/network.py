"""Co-accused network: officers named on the same complaints, and their own record."""

from __future__ import annotations

from openeis.features.sources import NO_VERSIONS, known_day, source, source_sql


def network_sql(years: int, officer_filter: str | None,
                versions: frozenset[str] = NO_VERSIONS) -> tuple[str, list[str]]:
    """CTE body giving (officer, idx, coaccused_officers_Ny, coaccused_upheld_rate_Ny,
    coaccused_upheld_Ny) over `grid`.

    Co-accused of officer A on D: distinct officers B with an allegation on a complaint on which
    A has one, both allegations existing on D and B's roster entry known on D (an allegation
    cannot name an officer the force does not know yet: a quirk of matched records), the
    complaint's conduct in the last N years.
    Their upheld rate: B's upheld allegations / B's allegations, both as known on D (findings
    only from decided_at), averaged over the co-accused. Corrected allegations count in the
    version that held on D (rows end with their version: until_day, vend_day). Casts pin the
    types, so that every engine gives the same (a DOUBLE rate, not PostgreSQL's NUMERIC; a BIGINT count, not
    DuckDB's HUGEINT sum). The mean is summed in fixed point (_exact_mean), so that it does not
    depend on the order rows arrive in.
    """
    src = source("allegations")
    w = int(round(years * 365.25))
    mine = source_sql(src, "record", officer_filter.format(col="t.officer_id") if officer_filter else None, versions)
    everyone = source_sql(src, "record", versions=versions)
    states = source_sql(src, "state", versions=versions)
    n = f"{years}y"
    cols = [f"coaccused_officers_{n}", f"coaccused_upheld_rate_{n}", f"coaccused_upheld_{n}"]
    sql = f"""(
WITH mine AS ({mine}),
everyone AS ({everyone}),
pairs AS (SELECT a.officer, b.officer AS other,
                 greatest(a.vis_day, b.vis_day, {known_day('o.recorded_at')}) AS vis_day, a.occ_day,
                 least(a.until_day, b.until_day) AS until_day
          FROM mine a JOIN everyone b ON a.complaint_id = b.complaint_id AND a.officer <> b.officer
          JOIN officers o ON o.officer_id = b.officer),
np AS (SELECT DISTINCT g.officer, g.idx, g.day, p.other FROM grid g JOIN pairs p
       ON p.officer = g.officer AND p.vis_day <= g.day AND g.day < p.occ_day + {w}
       AND (p.until_day IS NULL OR g.day < p.until_day)),
others AS (SELECT DISTINCT other, idx, day FROM np),
st AS ({states}),
ost AS (SELECT o.other, o.idx,
               sum(CASE WHEN s.phase = 'open' THEN 1 ELSE 0 END) AS known,
               sum(CASE WHEN s.phase = 'decided' AND s.finding = 'upheld' THEN 1 ELSE 0 END) AS upheld
        FROM others o JOIN st s ON s.officer = o.other AND s.vis_day <= o.day
             AND (s.vend_day IS NULL OR o.day < s.vend_day)
        GROUP BY o.other, o.idx)
SELECT np.officer, np.idx, count(*) AS {cols[0]},
       {_exact_mean('CAST(ost.upheld AS DOUBLE) / NULLIF(ost.known, 0)')} AS {cols[1]},
       CAST(sum(coalesce(ost.upheld, 0)) AS BIGINT) AS {cols[2]}
FROM np LEFT JOIN ost ON ost.other = np.other AND ost.idx = np.idx
GROUP BY np.officer, np.idx
)"""
    return sql, cols


def _exact_mean(rate: str) -> str:
    """Mean of rates in [0, 1] summed as integers of 1e-15: the same to the last bit whatever
    the order of the rows (a floating-point avg differs by ~1e-17 between two row orders, so
    two stores holding the same records would not give identical features)."""
    return (f"CAST(sum(CAST(round(1e15 * ({rate})) AS BIGINT)) AS DOUBLE) / 1e15 "
            f"/ NULLIF(count({rate}), 0)")
