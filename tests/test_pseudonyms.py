"""Pseudonyms: the SQL computation equals the Python one; namespaces separate; keyed."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from openeis.privacy import PSEUDONYM_HEX_CHARS, Pseudonymiser


@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=32, max_size=32), values=st.lists(st.one_of(st.none(), st.text(min_size=1)), max_size=20))
def test_sql_and_python_pseudonyms_agree(key, values):
    pseudonymiser = Pseudonymiser(key)
    connection = duckdb.connect()
    connection.register("v", pa.table({"x": pa.array(values, type=pa.string())}))
    expression, params = pseudonymiser.sql_expression("x", "officer")
    from_sql = [row[0] for row in connection.execute(f"SELECT {expression} FROM v", params).fetchall()]
    expected = [None if v is None else pseudonymiser.pseudonym("officer", v) for v in values]
    assert from_sql == expected


def test_namespaces_and_keys_give_different_pseudonyms():
    one, two = Pseudonymiser(b"a" * 32), Pseudonymiser(b"b" * 32)
    assert one.pseudonym("officer", "123") != one.pseudonym("complaint", "123")
    assert one.pseudonym("officer", "123") != two.pseudonym("officer", "123")
    assert len(one.pseudonym("officer", "123")) == PSEUDONYM_HEX_CHARS
    assert one.fingerprint() != two.fingerprint()
