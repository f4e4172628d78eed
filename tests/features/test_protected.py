"""Protected characteristics are never features: not read, not derivable, not configurable."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from openeis.features import DefinitionError, FeaturesConfig, features_table, plan
from openeis.features.build import base_sql, batch_sql, delta_queries
from openeis.config.features import Aggregation
from openeis.features.labels import labels_sql
from openeis.schema import PROTECTED_TABLES, TABLES_BY_NAME
from support.feature_stores import force
from support.feature_stores import make_store

PROTECTED_COLUMNS = {c for t in PROTECTED_TABLES for c in TABLES_BY_NAME[t].column_names} - {
    "officer_id", "complaint_id", "recorded_at", "complainant_id", "person_id"}
DATES = [date(2020, 6, 1), date(2021, 1, 1)]


def _all_sql() -> list[str]:
    config = FeaturesConfig()
    # the default path runs base_sql and the per-source points SQL; batch_sql is the portable one
    points = [dp.points_sql for _, dp in delta_queries(plan(config), DATES, "{col} >= 'M'")]
    return points + [base_sql(DATES, "{col} >= 'M'", config.network_years),
            batch_sql(plan(config), DATES, "{col} >= 'M'", config.network_years),
            labels_sql(DATES, ["sustained_12m", "complaint_12m", "force_injury_12m",
                               "sustained_or_force_injury_12m"])]


def test_generated_sql_never_reads_the_restricted_schema():
    for sql in _all_sql():
        assert not re.search(r"\brestricted\s*\.", sql, re.IGNORECASE)  # the schema, not restricted_duty
        tree = sqlglot.parse_one(sql, read="duckdb")
        tables = {t.name for t in tree.find_all(exp.Table)}
        assert not tables & set(PROTECTED_TABLES), tables & set(PROTECTED_TABLES)
        columns = {c.name for c in tree.find_all(exp.Column)}
        assert not columns & PROTECTED_COLUMNS, columns & PROTECTED_COLUMNS


def test_no_feature_is_named_after_a_protected_characteristic():
    words = re.compile(r"(^|_)(age|birth|born|ethnic\w*|gender|sex|religion|disabilit\w*|"
                       r"orientation|race|nationality|pregnan\w*|marital)(_|$)")
    names = plan(FeaturesConfig()).names
    assert len(names) > 150
    assert [n for n in names if words.search(n)] == []


@pytest.mark.parametrize("aggregation", [
    {"name": "by_ethnicity", "source": "allegations", "where": "ethnicity = 'B'"},
    {"name": "birth", "source": "officer_characteristics"},
    {"name": "complainants", "source": "complainants"},
    {"name": "sneaky", "source": "allegations",
     "where": "complaint_id IN (SELECT complaint_id FROM restricted.complainants)"},
    {"name": "qualified", "source": "allegations", "where": "r.gender = 'F'"},
])
def test_config_cannot_define_a_feature_on_protected_data(aggregation):
    config = FeaturesConfig(aggregations=[Aggregation(**aggregation)])
    with pytest.raises(DefinitionError):
        plan(config)


def test_features_build_without_the_restricted_schema(tmp_path):
    """The strongest check: with the protected tables gone, the features are the same."""
    rows = force() | {
        "officer_characteristics": [{"officer_id": "A", "ethnicity": "B", "gender": "F", "birth_year": 1990,
                                     "recorded_at": "2015-01-01"}],
    }
    store = make_store(tmp_path / "s.duckdb", rows)
    try:
        before = features_table(store, DATES)
        store.execute("DROP SCHEMA restricted CASCADE")
        after = features_table(store, DATES)
    finally:
        store.close()
    assert before.equals(after)


def test_the_versioned_sql_reads_no_protected_data_and_transpiles():
    """With every table versioned, the generated SQL still never reads the restricted schema
    or its columns, and SQLGlot carries it to PostgreSQL and Spark."""
    from openeis.features.engine import transpile
    from openeis.features.labels import label_definitions
    from openeis.schema import TABLES

    versions = frozenset(t.name for t in TABLES if not t.restricted)
    config = FeaturesConfig()
    dates = [date(2020, 6, 1), date(2021, 1, 1)]
    statements = [dp.points_sql for _, dp in delta_queries(plan(config), dates, "{col} >= 'M'", "ix", versions)]
    statements += [base_sql(dates, "{col} >= 'M'", config.network_years, versions=versions),
                   batch_sql(plan(config), dates, "{col} >= 'M'", config.network_years, versions),
                   labels_sql(dates, list(label_definitions()), known_at=date(2021, 6, 1), versions=versions)]
    assert all("_history" in sql for sql in statements[-3:])
    for sql in statements:
        assert not re.search(r"\brestricted\s*\.", sql, re.IGNORECASE)
        tree = sqlglot.parse_one(sql, read="duckdb")
        assert not {t.name for t in tree.find_all(exp.Table)} & {*PROTECTED_TABLES, *(f"{t}_history" for t in PROTECTED_TABLES)}
        assert not {c.name for c in tree.find_all(exp.Column)} & PROTECTED_COLUMNS
    for dialect in ("postgres", "spark"):
        for sql in statements[-3:]:
            sqlglot.parse_one(transpile(sql, dialect), read=dialect)
