"""The feature SQL is written once (DuckDB dialect) and transpiles to PostgreSQL and Spark."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import sqlglot

from openeis.features import FeaturesConfig, plan
from openeis.features.build import base_sql, batch_sql, delta_queries
from openeis.features.compile import index_of
from openeis.features.engine import transpile
from openeis.features.labels import labels_sql
from openeis.features.peers import peer_stats_sql, poisson_exceedance

DATES = [date(2020, 1, 1), date(2020, 2, 1), date(2020, 3, 1)]


@pytest.mark.parametrize("dialect", ["postgres", "spark"])
def test_feature_sql_transpiles(dialect):
    config = FeaturesConfig()
    points = [dp.points_sql for _, dp in delta_queries(plan(config), DATES, None)]
    for sql in (*points, base_sql(DATES, None, config.network_years),
                batch_sql(plan(config), DATES, "{col} < 'M'", config.network_years),
                labels_sql(DATES, ["sustained_or_force_injury_12m"]),
                peer_stats_sql("parts", config.peer_features, config.peer_exposure, 5)):
        out = transpile(sql, dialect)
        assert "epoch(" not in out.lower() or dialect == "spark"
        sqlglot.parse_one(out, read=dialect)  # and parses back in that dialect


def test_index_of_counts_as_of_days_before():
    days = [10, 20, 30, 40, 50]
    import duckdb

    con = duckdb.connect()
    for day in range(0, 60):
        got = con.execute(f"SELECT {index_of(str(day), days)}").fetchone()[0]
        assert got == sum(d < day for d in days), day


def test_poisson_exceedance_matches_the_definition():
    import math

    k = np.array([0, 1, 2, 5, 30, 3])
    lam = np.array([1.0, 1.0, 3.0, 0.5, 2.0, np.nan])
    got = poisson_exceedance(k, lam)

    def tail(kk, ll):
        return 1 - sum(math.exp(-ll) * ll**j / math.factorial(j) for j in range(kk))

    assert got[0] == 0
    assert got[1] == pytest.approx(-math.log10(tail(1, 1.0)))
    assert got[2] == pytest.approx(-math.log10(tail(2, 3.0)))
    assert got[3] == pytest.approx(-math.log10(tail(5, 0.5)), rel=1e-6)
    # far in the tail, where 1 - cdf underflows, the sum from k upward still works
    exact = -math.log10(sum(math.exp(-2) * 2.0**j / math.factorial(j) for j in range(30, 80)))
    assert got[4] == pytest.approx(exact, rel=1e-6)
    assert np.isnan(got[5])
