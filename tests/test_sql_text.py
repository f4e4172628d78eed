"""SQL text: whatever a literal or an identifier holds, the engine reads back exactly it."""

from __future__ import annotations

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from openeis.sql_text import identifier, literal, literal_list

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@given(TEXT)
def test_a_literal_reads_back_as_itself(value):
    assert duckdb.sql(f"SELECT {literal(value)}").fetchall()[0][0] == value


@given(st.lists(TEXT, min_size=1, max_size=5))
def test_a_literal_list_reads_back_as_itself(values):
    assert duckdb.sql(f"SELECT [{literal_list(values)}]").fetchall()[0][0] == values


@given(TEXT.filter(lambda s: s.strip() != ""))
def test_an_identifier_names_a_column_as_itself(name):
    relation = duckdb.sql(f"SELECT 1 AS {identifier(name)}")
    assert relation.columns == [name]


def test_none_is_null():
    assert literal(None) == "NULL"
