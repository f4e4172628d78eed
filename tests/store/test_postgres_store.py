"""The PostgreSQL store: Arrow in and out, placeholders, locks for concurrent writers,
migrations that agree with DuckDB's, and nothing raw or secret sent to the server."""

from __future__ import annotations

import datetime
import threading
import time

import pyarrow as pa
import pytest

from openeis.governance import access_log
from openeis.governance.roles import Actor, Role
from openeis.store import StoreError, open_store
from openeis.store.base import load_migrations
from openeis.store.postgres_store import redacted, to_pyformat

KEY = b"k" * 32
ANALYST = Actor("analyst-1", Role.ANALYST)


@pytest.fixture
def store(postgres_url):
    store = open_store(postgres_url)
    yield store
    store.close()


def test_placeholders_become_psycopg_ones_outside_quotes():
    assert to_pyformat("SELECT ? WHERE a LIKE '%?%' AND \"b?\" = ?") == (
        "SELECT %s WHERE a LIKE '%%?%%' AND \"b?\" = %s"
    )
    assert to_pyformat("SELECT 'it''s ?', 5 % 2, ?") == "SELECT 'it''s ?', 5 %% 2, %s"


def test_passwords_are_left_out_of_messages():
    assert redacted("postgresql://eis:s3cret@db:5432/force") == "postgresql://eis:***@db:5432/force"
    assert redacted("postgresql://eis@db/force") == "postgresql://eis@db/force"
    with pytest.raises(StoreError) as error:
        open_store("postgresql://eis:s3cret@127.0.0.1:1/force")
    assert "s3cret" not in str(error.value) and "cannot open store" in str(error.value)


def test_arrow_round_trip_keeps_types_nulls_and_odd_text(store):
    data = pa.table({
        "text": pa.array(["plain", "", None, 'quote " and, comma', "two\nlines", "Ø 🚓 'x'"]),
        "whole": pa.array([1, None, -3, 2**62, 0, 7], pa.int64()),
        "real": pa.array([1.5, None, 0.1, 1e300, -0.0, 2.0 / 3.0]),
        "flag": pa.array([True, False, None, True, False, True]),
        "at": pa.array([datetime.datetime(2020, 1, 1), None, datetime.datetime(2020, 2, 29, 23, 59, 59, 999999),
                        datetime.datetime(1900, 1, 1), datetime.datetime(2100, 12, 31, 1, 2, 3),
                        datetime.datetime(2020, 6, 1, 12)], pa.timestamp("us")),
        "day": pa.array([datetime.date(2020, 1, 1), None, datetime.date(1999, 12, 31)] * 2, pa.date32()),
    })
    with store.registered("sent", data):
        back = store.query_arrow("SELECT * FROM sent ORDER BY whole NULLS FIRST")
        assert back.schema == data.schema
        assert sorted(back.to_pylist(), key=repr) == sorted(data.to_pylist(), key=repr)
        # Parameters, and a literal % beside them.
        found = store.query_arrow("SELECT text, 100 % 7 AS r FROM sent WHERE text LIKE ? AND whole > ?", ["%,%", 0])
        assert found.to_pylist() == [{"text": 'quote " and, comma', "r": 2}]
        empty = store.query_arrow("SELECT * FROM sent WHERE whole > ?", [2**62])
        assert empty.num_rows == 0 and empty.schema == data.schema
        # A single column's NULL is an empty line of the CSV: still a row (an aggregate of nothing).
        nulls = store.query_arrow("SELECT max(whole) AS m FROM sent WHERE whole > ? UNION ALL SELECT 1", [2**62])
        assert sorted(nulls.column("m").to_pylist(), key=repr) == [1, None]
    assert not store.table_exists("sent")


def test_text_with_a_nul_character_is_refused_clearly(store):
    with pytest.raises(StoreError, match="NUL"):
        store.register_arrow("bad", pa.table({"text": ["a\x00b"]}))


def test_sessions_store_utc_and_numbers_come_back_as_numbers(store):
    assert store.scalar("SHOW TimeZone") == "UTC"
    assert store.scalar("SELECT sum(x) FROM (VALUES (1::bigint), (2)) v(x)") == 3
    assert store.scalar("SELECT avg(x) FROM (VALUES (1), (2)) v(x)") == 1.5


def test_two_writers_at_once_never_fork_the_access_log(postgres_url):
    """Two real connections append at the same moment, many times: one chain, no gaps."""
    each = 25
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        store = open_store(postgres_url)
        try:
            start.wait()
            for entry in range(each):
                access_log.append(store, KEY, Actor(f"writer-{number}", Role.ANALYST), "read", "source_records",
                                  records={"entry": entry}, purpose="concurrency test")
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            store.close()

    store = open_store(postgres_url)
    store.migrate()
    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    result = access_log.verify(store, KEY)
    assert result.ok and result.entries == 2 * each, str(result)
    writers = {row[0] for row in store.query("SELECT DISTINCT actor FROM access_log")}
    store.close()
    assert writers == {"writer-1", "writer-2"}


def test_a_writer_waits_for_the_open_transaction_before_it(postgres_url):
    """The second writer reads the newest entry only after the first commits (or gives up)."""
    first, second = open_store(postgres_url), open_store(postgres_url)
    first.migrate()
    done: list[access_log.Entry] = []
    try:
        first.begin()
        access_log.append(first, KEY, ANALYST, "change", "source_records", purpose="held open", own_transaction=False)
        waiting = threading.Thread(target=lambda: done.append(
            access_log.append(second, KEY, ANALYST, "read", "source_records", purpose="second")))
        waiting.start()
        time.sleep(1.0)
        assert not done, "the second writer did not wait for the first"
        first.rollback()  # the first entry never happened: the second takes its place
        waiting.join(timeout=30)
        assert [entry.seq for entry in done] == [1]
        first.begin()
        access_log.append(first, KEY, ANALYST, "change", "source_records", own_transaction=False)
        first.commit()
        assert access_log.verify(first, KEY).ok and access_log.verify(first, KEY).entries == 2
    finally:
        first.close()
        second.close()


def test_migrating_twice_at_once_applies_each_migration_once(postgres_url):
    stores = [open_store(postgres_url) for _ in range(2)]
    start = threading.Barrier(2)
    applied: list[int] = []

    def migrate(store) -> None:
        start.wait()
        applied.extend(m.version for m in store.migrate())

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    versions = [m.version for m in load_migrations("postgres")]
    assert sorted(applied) == versions
    assert sorted(r[0] for r in stores[0].query("SELECT version FROM schema_migrations")) == versions
    for store in stores:
        store.close()


# -- migrations on both engines ---------------------------------------------------------

# information_schema type names of each engine, as one portable name.
PORTABLE_TYPES = {
    "VARCHAR": "text", "character varying": "text", "text": "text",
    "BIGINT": "bigint", "bigint": "bigint",
    "INTEGER": "integer", "integer": "integer",
    "DOUBLE": "double", "double precision": "double",
    "BOOLEAN": "boolean", "boolean": "boolean",
    "TIMESTAMP": "timestamp", "timestamp without time zone": "timestamp",
    "DATE": "date", "date": "date",
    "BLOB": "bytes", "bytea": "bytes",
}


def _catalogue(store) -> dict[tuple[str, str, str], tuple[str, str]]:
    home = {"duckdb": "main", "postgres": "public"}[store.dialect]
    rows = store.query(
        "SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema IN (?, 'restricted')",
        [home],
    )
    return {
        ("home" if schema == home else schema, table, column): (PORTABLE_TYPES.get(kind, f"not portable: {kind}"), null)
        for schema, table, column, kind, null in rows
    }


def test_every_migration_gives_the_same_tables_on_both_engines(tmp_path, postgres_url):
    """Guards new migration files: the same tables, columns, types and nullability on both
    engines. A type outside PORTABLE_TYPES fails here (see DEVELOPERS.md for the rules)."""
    catalogues = []
    for url in (str(tmp_path / "s.duckdb"), postgres_url):
        store = open_store(url)
        try:
            store.migrate()
            catalogues.append(_catalogue(store))
        finally:
            store.close()
    on_duckdb, on_postgres = catalogues
    assert set(on_duckdb) == set(on_postgres)
    differing = {column: (on_duckdb[column], on_postgres[column]) for column in on_duckdb
                 if on_duckdb[column] != on_postgres[column]}
    assert not differing
    assert not [column for column, (kind, _) in on_duckdb.items() if kind.startswith("not portable")]


def test_a_variant_file_replaces_the_portable_one_on_its_engine(tmp_path, monkeypatch):
    package = tmp_path / "fake_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_base.sql").write_text("CREATE TABLE a (x BIGINT);\n")
    (package / "0002_extension.postgres.sql").write_text("CREATE EXTENSION IF NOT EXISTS pgcrypto;\n")
    (package / "0003_index.sql").write_text("CREATE INDEX a_x ON a (x);\n")
    (package / "0003_index.duckdb.sql").write_text("CREATE INDEX a_x ON a (x);\n-- DuckDB's own\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    duckdb = load_migrations("duckdb", "fake_migrations")
    postgres = load_migrations("postgres", "fake_migrations")
    assert [(m.version, m.name) for m in duckdb] == [(1, "base"), (2, "extension"), (3, "index")]
    assert duckdb[1].sql == "" and "pgcrypto" in postgres[1].sql
    assert "DuckDB's own" in duckdb[2].sql and "DuckDB's own" not in postgres[2].sql
    (package / "0003_models.sql").write_text("CREATE TABLE m (x BIGINT);\n")
    with pytest.raises(StoreError, match="two migration files for version 0003"):
        load_migrations("duckdb", "fake_migrations")


# -- the CLI on a PostgreSQL store ------------------------------------------------------


def test_init_status_and_log_on_postgres(cli, tmp_path, postgres_url):
    from support.handmade import write_force

    assert "is not an OpenEIS store" in cli("status", "--store", postgres_url, expect=1).output
    first = cli("init", "--store", postgres_url).output
    assert "migration(s) applied" in first and (tmp_path / "openeis.key").exists()
    assert " 0 migration(s) applied" in cli("init", "--store", postgres_url).output
    write_force(tmp_path / "in")
    cli("ingest", "--store", postgres_url, tmp_path / "in")
    status = cli("status", "--store", postgres_url).output
    assert "restricted.officer_characteristics" in status and "inserted 27" in status
    # ingest (1) and status (2) are logged; the check reads 2 entries and logs itself (3).
    assert "intact: 2 entries" in cli("log", "verify", "--store", postgres_url).output
    assert cli("log", "head", "--store", postgres_url).output.startswith("3:")


def test_nothing_raw_or_secret_reaches_the_server(cli, tmp_path, postgres_server, postgres_url):
    """With every statement and its parameters logged by the server, an ingest sends
    neither a raw identifier nor the key (nor the padded keys of the HMAC)."""
    if postgres_server.directory is None:
        pytest.skip("needs the server log of a server the tests started")
    from support.handmade import RAW_OFFICER_IDS, write_force

    from openeis.privacy import read_key_file

    database = postgres_url.rsplit("/", 1)[1]
    for setting in ("log_statement = 'all'", "log_min_duration_statement = 0", "log_parameter_max_length = -1"):
        postgres_server.admin(f'ALTER DATABASE "{database}" SET {setting}')
    log = postgres_server.directory / "server.log"
    already = log.stat().st_size
    write_force(tmp_path / "in")
    cli("init", "--store", postgres_url)
    cli("ingest", "--store", postgres_url, tmp_path / "in")
    written = log.read_bytes()[already:].decode(errors="replace")
    # The server did log this session's statements, and their parameters.
    assert "INSERT INTO ingest_batches" in written and "parameters: $1 = " in written
    key = read_key_file(tmp_path / "openeis.key")
    padded = key.ljust(64, b"\0")
    secrets = [key.hex(), bytes(b ^ 0x36 for b in padded).hex(), bytes(b ^ 0x5C for b in padded).hex()]
    for secret in secrets + RAW_OFFICER_IDS + ["ALX-1", "CRX-2020-0001", "PERSONX-77", "SUBJX-555"]:
        assert secret not in written, secret


def test_retention_on_postgres_rewrites_the_tables_that_lost_rows(cli, tmp_path, postgres_server, postgres_url):
    """After VACUUM FULL (compact_postgres) the deleted rows' bytes are gone from the table
    files; before it, a plain DELETE leaves them there, as in a DuckDB file."""
    if postgres_server.directory is None:
        pytest.skip("needs the data directory of a server the tests started")
    from support.handmade import write_force
    from support.retention import retention_force

    from openeis.config import load_config
    from openeis.governance import retention
    from openeis.privacy import Pseudonymiser, read_key_file

    write_force(tmp_path / "in", retention_force())
    cli("init", "--store", postgres_url)
    cli("ingest", "--store", postgres_url, tmp_path / "in")
    gone = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("allegation", "ALX-OLD-RETAIN-ME-NOT")
    store = open_store(postgres_url)
    try:
        def table_file() -> bytes:
            store.execute("CHECKPOINT")  # write the table's pages out
            path = store.scalar("SELECT pg_relation_filepath('allegations')")
            return (postgres_server.directory / "data" / path).read_bytes()

        rules = load_config(None).retention.rules
        with store.transaction():
            outcomes = retention.apply(store, rules, datetime.date(2021, 1, 1))
        assert gone.encode() in table_file()
        rewritten = retention.compact_postgres(store, outcomes)
        assert "allegations" in rewritten
        assert gone.encode() not in table_file()
        assert store.scalar("SELECT count(*) FROM allegations") == 3
    finally:
        store.close()
