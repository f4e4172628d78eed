"""The same feature and label definitions on DuckDB, PostgreSQL and Spark give the same tables.

One small synthetic force is ingested into a DuckDB file and into a PostgreSQL database
(the same files, the same key, so the same pseudonyms); Spark reads the Parquet warehouse
`openeis warehouse` writes from the DuckDB store, and `openeis features|labels --engine
spark://...` compute on it. The force corrects some of its records between the dates
(`ingest --changed-at`), so every engine also reads the versions known at each date
(tests/features/test_corrections.py checks those versions themselves, on DuckDB and
PostgreSQL). Features and labels are built on each and compared cell by cell: same rows, same columns and types, equal values. Floats are compared to 1e-12
(relative, or absolute near zero): engines may sum in a different order, which moves the
last bits (on the 2,000-officer benchmark force the largest difference was 1.9e-16, a
Poisson score of ~1e-14, i.e. zero up to rounding; docs/scale.md).

Spark runs in local mode, one session for the module (its JVM takes most of the time);
`-XX:TieredStopAtLevel=1` makes the JVM compile quickly rather than well, which suits a
few small queries.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openeis.features import FeaturesConfig, features_table
from openeis.features.labels import compute_labels
from openeis.store import StoreError, open_store
from openeis.store.spark_store import parse_spark_url
from openeis.store.warehouse import WAREHOUSE_TABLES
from support.engines import SPARK_TEST_SETTINGS, assert_same_table
from support.replay import ORDER, correct, openeis

DATES = [date(2016, 7, 1), date(2017, 1, 1), date(2017, 7, 1), date(2018, 1, 1)]
CORRECTED_AT = datetime(2017, 4, 1, 12, 0)  # between the second and third date
KNOWN_BEFORE = date(2017, 3, 1)  # labels as known before the corrections: their earlier versions
LABELS = ["sustained_12m", "sustained_or_force_injury_12m"]
CONFIG = FeaturesConfig(peer_min_size=2)
SPARK_ENGINE = "spark://local[2]?warehouse={warehouse}" + "".join(
    f"&{name}={quote(value)}" for name, value in SPARK_TEST_SETTINGS.items())
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="module")
def force(tmp_path_factory):
    """A directory with a small synthetic force and its key, ingested into a DuckDB file, then
    corrected by the force at CORRECTED_AT (so the stores hold earlier versions of records)."""
    root = tmp_path_factory.mktemp("engines")
    openeis("synth", "--officers", 40, "--years", 4, "--seed", 11, "--start", "2014-06-01",
            "--out", root / "force", "--format", "parquet")
    assert all(correct(root / "force", root / "corrected").values())
    openeis("init", "--store", root / "force.duckdb", "--key-file", root / "force.key")
    _ingest_with_corrections(root, root / "force.duckdb")
    return root


def _ingest_with_corrections(root, store) -> None:
    openeis("ingest", root / "force", "--store", store, "--key-file", root / "force.key")
    openeis("ingest", root / "corrected", "--store", store, "--key-file", root / "force.key",
            "--changed-at", CORRECTED_AT.isoformat())


@pytest.fixture(scope="module")
def duckdb_tables(force):
    store = open_store(str(force / "force.duckdb"))
    try:
        return features_table(store, DATES, CONFIG), _labels(store), _labels(store, KNOWN_BEFORE)
    finally:
        store.close()


@pytest.fixture(scope="module")
def postgres_force(force, postgres_server):
    """The same files ingested into a PostgreSQL database, with the DuckDB store's key."""
    root = force
    name = f"openeis_engines_{os.getpid()}"
    postgres_server.admin(f'DROP DATABASE IF EXISTS "{name}"')
    postgres_server.admin(f'CREATE DATABASE "{name}"')
    url = postgres_server.url(name)
    key = root / "force.key"  # the DuckDB store's key: the same pseudonyms
    openeis("init", "--store", url, "--key-file", key)
    _ingest_with_corrections(root, url)
    yield url
    postgres_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _labels(store, known_at: date | None = None) -> pa.Table:
    table = compute_labels(store, DATES, LABELS, known_at=known_at)
    return table.sort_by(ORDER)


def test_the_force_has_something_to_compare(duckdb_tables):
    features, labels, labels_before = duckdb_tables
    # the corrections changed what followed some dates: labels as known before them differ
    assert labels.to_pylist() != labels_before.to_pylist()
    assert features.num_rows >= 4 * 30 and len(features.column_names) > 150
    assert sum(labels.column("sustained_or_force_injury_12m").to_pylist()) > 0
    # non-trivial values in the families most likely to differ between engines
    for name in ("allegations_count_1y", "sickness_days_1y", "coaccused_officers_5y", "tenure_days"):
        assert any(features.column(name).to_pylist()), name


def test_postgres_builds_the_same_features_and_labels(duckdb_tables, postgres_force):
    store = open_store(postgres_force)
    try:
        assert_same_table(duckdb_tables[0], features_table(store, DATES, CONFIG))
        assert_same_table(duckdb_tables[1], _labels(store))
        assert_same_table(duckdb_tables[2], _labels(store, KNOWN_BEFORE))
        # the portable all-SQL route (batches, running sums and peers in SQL) too
        sql_route = features_table(store, DATES, CONFIG.model_copy(update={"running_sums": "sql"}))
        assert_same_table(duckdb_tables[0], sql_route)
    finally:
        store.close()


@pytest.fixture(scope="module")
def spark_outputs(force):
    """`openeis warehouse`, then `openeis features|labels --engine spark://...` over it: Spark's
    features and labels, computed by the commands users run (in this process, so the JVM
    started here serves the module's other Spark tests)."""
    pytest.importorskip("pyspark")
    store, key = force / "force.duckdb", force / "force.key"
    openeis("warehouse", "--out", force / "warehouse", "--store", store, "--key-file", key)
    as_of = ",".join(d.isoformat() for d in DATES)
    engine = SPARK_ENGINE.format(warehouse=force / "warehouse")
    (force / "peers.toml").write_text("[features]\npeer_min_size = 2\n")
    openeis("features", "--as-of", as_of, "--out", force / "spark-features.parquet", "--store", store,
            "--key-file", key, "--engine", engine, "--config", force / "peers.toml")
    openeis("labels", "--as-of", as_of, *[a for name in LABELS for a in ("--label", name)],
            "--out", force / "spark-labels.parquet", "--store", store, "--key-file", key, "--engine", engine)
    return (pq.read_table(force / "spark-features.parquet").sort_by(ORDER),
            pq.read_table(force / "spark-labels.parquet").sort_by(ORDER))


@pytest.fixture(scope="module")
def spark_store(force, spark_outputs):
    """Spark in local mode over the warehouse `openeis warehouse` wrote from the DuckDB store."""
    store = open_store(SPARK_ENGINE.format(warehouse=force / "warehouse"))
    yield store
    store.close()


def test_the_warehouse_holds_no_protected_data(force, spark_store):
    assert set(p.name for p in (force / "warehouse").iterdir()) >= set(WAREHOUSE_TABLES)
    assert not any((force / "warehouse" / name).exists()
                   for name in ("officer_protected", "access_log", "quarantine", "store_meta"))
    assert not any(name.startswith("restricted") for name in WAREHOUSE_TABLES)
    assert spark_store.schema_version() > 0
    assert spark_store.scalar("SELECT count(*) FROM officers") > 0


def test_spark_builds_the_same_features_and_labels(duckdb_tables, spark_outputs, spark_store):
    """On records with earlier versions (the warehouse carries the history tables): features
    before and after the corrections, labels as known now and as known before them."""
    features, labels = spark_outputs
    assert_same_table(duckdb_tables[0].sort_by(ORDER), features)
    assert_same_table(duckdb_tables[1], labels)
    assert spark_store.scalar("SELECT count(*) FROM allegations_history") > 0
    assert_same_table(duckdb_tables[2], _labels(spark_store, KNOWN_BEFORE))


def test_commands_refuse_a_spark_store_clearly(force, spark_store):
    """`openeis` commands write the access log to the store: not to a read-only warehouse."""
    output = openeis("features", "--as-of", "2017-01-01", "--out", force / "f.parquet",
                     "--store", f"spark://local[2]?warehouse={force / 'warehouse'}",
                     "--key-file", force / "force.key", expect=1)
    assert "read-only warehouses" in output, output


def test_commands_on_spark_log_in_the_store(force, spark_outputs):
    """The warehouse export and the Spark reads are logged in the DuckDB store, each as the
    permission it needed; an engine that is not Spark is refused."""
    store, key = force / "force.duckdb", force / "force.key"
    opened = open_store(str(store), read_only=True)
    try:
        logged = opened.query("SELECT action, resource, records FROM access_log ORDER BY seq DESC LIMIT 3")
    finally:
        opened.close()
    # labels, features, warehouse: each a force-wide export, logged as the permission it needed
    assert [(a, r) for a, r, _ in logged] == [("export", "source_records"), ("export", "features"),
                                              ("export", "source_records")]
    assert json.loads(logged[2][2])["warehouse"] is True
    assert json.loads(logged[1][2])["engine"] == "spark://local[2]"  # settings left out of the log
    refused = openeis("features", "--as-of", "2017-01-01", "--out", force / "x.parquet",
                      "--store", store, "--key-file", key, "--engine", "duckdb://x", expect=1)
    assert "only spark://" in refused


def test_day_numbers_agree_to_the_microsecond(force, postgres_force, spark_store):
    """ceil_day / floor_day (every feature's day numbers) on instants either side of midnight."""
    from openeis.features.engine import query_arrow
    from openeis.features.sources import ceil_day, floor_day

    instants = pa.table({"instant": pa.array([
        datetime(2020, 1, 1), datetime(2020, 1, 1, 0, 0, 0, 500_000), datetime(2020, 1, 1, 0, 0, 0, 1),
        datetime(2019, 12, 31, 23, 59, 59, 999_999), datetime(1969, 12, 31, 12), datetime(2024, 2, 29, 23),
    ], pa.timestamp("us"))})
    sql = f"SELECT {ceil_day('instant')} AS c, {floor_day('instant')} AS f FROM instants"
    expected = [(18262, 18262), (18263, 18262), (18263, 18262), (18262, 18261), (0, -1), (19783, 19782)]
    duck = open_store(str(force / "force.duckdb"), read_only=True)
    postgres = open_store(postgres_force)
    try:
        for store in (duck, postgres, spark_store):
            with store.registered("instants", instants):
                got = query_arrow(store, sql)
            assert list(zip(*(got.column(n).to_pylist() for n in ("c", "f")))) == expected, store.dialect
    finally:
        duck.close()
        postgres.close()


def test_spark_urls():
    assert parse_spark_url("spark://local[2]?warehouse=/data/eis") == ("local[2]", "/data/eis", {})
    assert parse_spark_url("spark://head:7077?warehouse=hdfs://nn/eis&spark.executor.memory=8g") == (
        "spark://head:7077", "hdfs://nn/eis", {"spark.executor.memory": "8g"})
    assert parse_spark_url("spark://cluster?master=yarn&warehouse=s3a://b/eis")[0] == "yarn"
    with pytest.raises(StoreError, match="warehouse"):
        parse_spark_url("spark://local[2]")
    with pytest.raises(StoreError, match="unknown parameter"):
        parse_spark_url("spark://local[2]?warehouse=/x&colour=red")


def test_a_missing_warehouse_is_refused(tmp_path):
    pytest.importorskip("pyspark")
    from openeis.store.warehouse import table_paths

    with pytest.raises(FileNotFoundError, match="officers"):
        table_paths(str(tmp_path))
    assert table_paths("hdfs://nn/eis")["officers"] == "hdfs://nn/eis/officers"


