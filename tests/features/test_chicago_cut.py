"""Replaying what was known: the Chicago copy cut at D gives the same features as the whole copy.

The shared copy is the department's database as it stood on 2011-01-01 (../shared/data/README.md).
Cut again at D = 2009-01-01 by the same recipe (tests/support/cpdp_cut.py), it is what the database
held on D. Both are read with the cpdp adapter into two stores with one key (so one set of
pseudonyms). Whatever the whole copy holds beyond D was not known on D, so the features on D
and on D minus 6 months, the labels of those dates as known at D, and the cohorts (the rows of
each) must be identical, every column, to the last bit. On DuckDB: the rule is the same SQL on
every engine, and tests/features/test_engines.py and test_corrections.py find PostgreSQL
and Spark equal to DuckDB (a PostgreSQL feature build at Chicago's size takes well over ten
minutes on this machine).
"""

from __future__ import annotations

from datetime import date, datetime, time

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from openeis.features import FeaturesConfig, compute_labels, features_table
from openeis.features.dates import add_months
from openeis.features.labels import label_definitions
from openeis.store import open_store
from support.adapter_checks import shared_data
from support.cpdp_cut import cut_cpdp
from support.replay import openeis

D = date(2009, 1, 1)
DATES = [add_months(D, -6), D]
pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _tables(store_path: str) -> tuple[pa.Table, pa.Table]:
    store = open_store(store_path)
    try:
        features = features_table(store, DATES, FeaturesConfig())
        labels = compute_labels(store, DATES, list(label_definitions()), known_at=D)
    finally:
        store.close()
    order = [("as_of", "ascending"), ("officer", "ascending")]
    return features.sort_by(order), labels.sort_by(order)


def _instant(d: date) -> pa.Scalar:
    return pa.scalar(datetime.combine(d, time()), pa.timestamp("us"))


def _differences(whole: pa.Table, cut: pa.Table) -> dict[str, int]:
    """Columns that differ, with how many rows (the tables have the same keys in one order)."""
    out = {}
    for name in whole.column_names:
        a, b = whole.column(name).to_pylist(), cut.column(name).to_pylist()
        n = sum(1 for x, y in zip(a, b) if x != y and not (x != x and y != y))  # NaN == NaN
        if n:
            out[name] = n
    return out


@pytest.fixture(scope="module")
def cut_copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("chicago-cut")
    whole = shared_data("chicago_cpdp")
    return root, whole, cut_cpdp(whole, root / "cut", D)


@pytest.fixture(scope="module")
def stores(cut_copy):
    root, whole, cut = cut_copy
    key = root / "chicago.key"
    paths = {}
    for name, directory in (("whole", whole), ("cut", cut)):
        paths[name] = str(root / f"{name}.duckdb")
        openeis("init", "--store", paths[name], "--key-file", key)
        openeis("ingest", "--format", "cpdp", directory, "--store", paths[name], "--key-file", key)
    return paths


@pytest.fixture(scope="module")
def tables(stores):
    return {name: _tables(path) for name, path in stores.items()}


def test_the_cut_holds_less_than_the_whole_copy(stores):
    counts = {}
    for name, path in stores.items():
        store = open_store(path, read_only=True)
        try:
            counts[name] = {t: store.scalar(f"SELECT count(*) FROM {t}")
                            for t in ("officers", "postings", "complaints", "allegations", "use_of_force")}
            counts[name]["decided_later"] = store.scalar(
                "SELECT count(*) FROM allegations WHERE decided_at >= ?", [datetime.combine(D, time())])
        finally:
            store.close()
    # two years of records (2009, 2010) are missing from the cut, and findings made since
    for table in ("officers", "postings", "complaints", "allegations", "use_of_force"):
        assert counts["cut"][table] < counts["whole"][table], table
    assert counts["cut"]["decided_later"] == 0 < counts["whole"]["decided_later"]


def test_features_and_cohorts_are_identical(tables):
    whole, cut = tables["whole"][0], tables["cut"][0]
    assert whole.schema == cut.schema
    def cohort(table: pa.Table, d: date) -> set:
        return set(table.filter(pc.equal(table.column("as_of"), _instant(d))).column("officer").to_pylist())

    for d in DATES:  # the cohort of each date: the same officers
        assert cohort(whole, d) == cohort(cut, d) and len(cohort(whole, d)) > 10_000, d
    assert whole.num_rows == cut.num_rows
    assert whole.column("officer").to_pylist() == cut.column("officer").to_pylist()
    assert not _differences(whole, cut)
    # not vacuous: events known on D, findings, postings and peers are all there
    for name in ("allegations_count_1y", "allegations_upheld_count_all", "allegations_open_count_all",
                 "use_of_force_count_1y", "peer_unit", "coaccused_upheld_rate_5y", "allegations_count_1y_peer_pct"):
        assert whole.column(name).null_count < whole.num_rows and any(whole.column(name).to_pylist()), name


def test_labels_known_at_the_cut_are_identical(tables):
    whole, cut = tables["whole"][1], tables["cut"][1]
    assert whole.schema == cut.schema and whole.num_rows == cut.num_rows
    assert whole.column("officer").to_pylist() == cut.column("officer").to_pylist()
    assert not _differences(whole, cut)
    # the labels of D - 6 months hold the six months known by D
    early = whole.filter(pc.equal(whole.column("as_of"), _instant(DATES[0])))
    assert sum(early.column("complaint_12m").to_pylist()) > 1000


def test_the_whole_copy_knows_more_later(stores, tables):
    """The same comparison a year later differs: the test can see a difference where one exists."""
    later = [date(2010, 1, 1)]
    found = {}
    for name, path in stores.items():
        store = open_store(path)
        try:
            found[name] = compute_labels(store, later, ["complaint_12m"]).sort_by("officer")
        finally:
            store.close()
    assert sum(found["whole"].column("complaint_12m").to_pylist()) > sum(found["cut"].column("complaint_12m").to_pylist())
