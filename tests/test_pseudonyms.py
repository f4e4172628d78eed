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


def test_duckdb_and_postgres_stores_hold_identical_pseudonyms(tmp_path, postgres_url):
    """The same files and key give byte-identical pseudonyms, values and row hashes in a
    DuckDB file and a PostgreSQL database (both pseudonymise in the same in-process SQL)."""
    import copy

    from support.handmade import force, write_force

    from openeis.ingest import ingest_canonical
    from openeis.schema import TABLES
    from openeis.store import open_store

    tables = copy.deepcopy(force())
    # Identifiers with quotes, separators, non-ASCII letters and an emoji.
    odd = dict(tables["officers"][0], officer_id="Ø-ßé 'q\" \u00a0🚓,1", left_at="")
    tables["officers"].append(odd)
    tables["postings"].append(dict(tables["postings"][0], posting_id="P;X|-9", officer_id=odd["officer_id"]))
    write_force(tmp_path / "in", tables)
    pseudonymiser = Pseudonymiser(b"\x07" * 32)
    contents = []
    for url in (str(tmp_path / "s.duckdb"), postgres_url):
        store = open_store(url)
        try:
            store.migrate()
            ingest_canonical(store, tmp_path / "in", pseudonymiser)
            contents.append({
                table.qualified_name: sorted(store.query(
                    f"SELECT {', '.join(table.column_names)}, _row_hash FROM {table.qualified_name}"))
                for table in TABLES
            })
        finally:
            store.close()
    duckdb_rows, postgres_rows = contents
    assert duckdb_rows == postgres_rows
    officers = {row[0] for row in postgres_rows["officers"]}
    assert pseudonymiser.pseudonym("officer", odd["officer_id"]) in officers
    assert pseudonymiser.pseudonym("officer", "WX100001") in officers
