"""Comparing the engines: Spark's test settings and the cell-by-cell comparison of a feature or
label table from one engine with another's (floats to 1e-12: engines may sum in another order,
which moves the last bits; tests/features/test_engines.py)."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

# Local mode, one small session: `-XX:TieredStopAtLevel=1` makes the JVM compile quickly
# rather than well, which suits a few small queries.
SPARK_TEST_SETTINGS = {
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


def assert_same_table(expected: pa.Table, got: pa.Table) -> None:
    assert got.column_names == expected.column_names
    assert got.num_rows == expected.num_rows > 0
    for want, have in zip(expected.schema, got.schema):
        assert have.type == want.type, (want.name, want.type, have.type)
    for name in expected.column_names:
        a, b = expected.column(name).to_pylist(), got.column(name).to_pylist()
        if pa.types.is_floating(expected.schema.field(name).type):
            for x, y in zip(a, b):
                assert (x is None) == (y is None), name
                if x is not None:
                    assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12, abs=1e-12), name
        else:
            assert a == b, name
