"""Replaying what was known across corrections: a re-ingest keeps the versions it replaces.

A small synthetic force is ingested, then re-ingested with corrections (categories, dates,
findings, force types, absence spans, postings, roster entries and complaint dates), made by
the force at T (`--changed-at`). Three stores, one key:

- `replayed`: the force, then its corrections;
- `never`: the force only (never saw the corrections);
- `only`: the corrected force only (as if it had always been so).

Features, cohorts and labels of `replayed` must equal those of `never` on every date before T
(and known at a date before T), and those of `only` on every date after it, every column:
on DuckDB and on PostgreSQL, by both running-sum routes. (Spark reads the versions of a
corrected force alike: tests/features/test_engines.py, whose force is corrected too.)
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from openeis.features import FeaturesConfig, compute_labels, features_table
from openeis.features.labels import label_definitions
from openeis.store import open_store
from support.replay import ORDER, assert_identical, correct, openeis

T = datetime(2016, 7, 1, 12, 0)  # when the force made the corrections
BEFORE = [date(2015, 1, 1), date(2016, 1, 1), date(2016, 7, 1)]  # 2016-07-01 00:00 is before T
AFTER = [date(2016, 7, 2), date(2017, 1, 1), date(2018, 6, 1)]
LABEL_DATES = [date(2015, 1, 1), date(2015, 7, 1)]
CONFIG = FeaturesConfig(peer_min_size=2)


@pytest.fixture(scope="module")
def force(tmp_path_factory):
    root = tmp_path_factory.mktemp("corrections")
    openeis("synth", "--officers", 60, "--years", 5, "--seed", 3, "--start", "2014-01-01",
            "--out", root / "original", "--format", "parquet")
    counts = correct(root / "original", root / "corrected")
    assert all(n > 0 for n in counts.values()), counts
    return root


def _stores(engine: str, root: Path, request) -> dict[str, str]:
    if engine == "duckdb":
        return {name: str(root / f"{engine}-{name}.duckdb") for name in ("replayed", "never", "only")}
    server = request.getfixturevalue("postgres_server")
    urls = {}
    for name in ("replayed", "never", "only"):
        database = f"openeis_replay_{name}_{os.getpid()}"
        server.admin(f'DROP DATABASE IF EXISTS "{database}"')
        server.admin(f'CREATE DATABASE "{database}"')
        urls[name] = server.url(database)
    request.addfinalizer(lambda: [server.admin(f'DROP DATABASE IF EXISTS "{u.rsplit("/", 1)[1]}" WITH (FORCE)')
                                  for u in urls.values()])
    return urls


def _tables(url: str, dates: list[date]) -> dict[str, pa.Table]:
    store = open_store(url)
    try:
        out = {"features": features_table(store, dates, CONFIG).sort_by(ORDER)}
        names = list(label_definitions())
        for known in ("before", "after", "latest"):
            at = {"before": BEFORE[-1], "after": AFTER[1], "latest": None}[known]
            out[f"labels_{known}"] = compute_labels(store, LABEL_DATES, names, known_at=at).sort_by(ORDER)
        out["history"] = store.scalar("SELECT count(*) FROM allegations_history")
    finally:
        store.close()
    return out


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(request, force):
    urls = _stores(request.param, force, request)
    key = force / "force.key"
    for url in urls.values():
        openeis("init", "--store", url, "--key-file", key)
    openeis("ingest", force / "original", "--store", urls["replayed"], "--key-file", key)
    output = openeis("ingest", force / "corrected", "--store", urls["replayed"], "--key-file", key,
                     "--changed-at", T.isoformat())
    assert "corrections: their earlier versions are kept" in output
    openeis("ingest", force / "original", "--store", urls["never"], "--key-file", key)
    openeis("ingest", force / "corrected", "--store", urls["only"], "--key-file", key)
    dates = BEFORE + AFTER
    return {"engine": request.param, "urls": urls, "key": key,
            **{name: _tables(url, dates) for name, url in urls.items()}}


def _on(table: pa.Table, dates: list[date]) -> pa.Table:
    instants = pa.array([datetime.combine(d, datetime.min.time()) for d in dates], pa.timestamp("us"))
    return table.filter(pc.is_in(table.column("as_of"), value_set=instants.cast(table.schema.field("as_of").type)))


def test_the_corrections_change_features(built):
    """Not vacuous: the two forces differ before and after T."""
    never, only = built["never"]["features"], built["only"]["features"]
    differing = [n for n in never.column_names
                 if _on(never, AFTER).column(n).to_pylist() != _on(only, AFTER).column(n).to_pylist()]
    for name in ("allegations_discourtesy_count_all", "allegations_upheld_count_all", "allegations_count_1y",
                 "use_of_force_baton_count_1y", "sickness_days_1y", "peer_unit", "tenure_days"):
        assert name in differing, name
    assert built["replayed"]["history"] > 0 and built["never"]["history"] == 0 == built["only"]["history"]


def test_before_the_correction_features_are_those_of_a_store_that_never_saw_it(built):
    assert_identical(_on(built["replayed"]["features"], BEFORE), _on(built["never"]["features"], BEFORE))


def test_after_the_correction_features_are_those_of_the_corrected_records(built):
    assert_identical(_on(built["replayed"]["features"], AFTER), _on(built["only"]["features"], AFTER))


def test_labels_as_known_before_and_after_the_correction(built):
    replayed = built["replayed"]
    assert_identical(replayed["labels_before"], built["never"]["labels_before"])
    assert_identical(replayed["labels_after"], built["only"]["labels_after"])
    assert_identical(replayed["labels_latest"], built["only"]["labels_latest"])
    assert replayed["labels_before"].to_pylist() != replayed["labels_latest"].to_pylist()


def test_the_portable_sql_route_reads_versions_alike(built):
    store = open_store(built["urls"]["replayed"])
    try:
        sql = features_table(store, BEFORE + AFTER, CONFIG.model_copy(update={"running_sums": "sql"})).sort_by(ORDER)
    finally:
        store.close()
    got = built["replayed"]["features"]
    assert sql.column_names == got.column_names
    for name in got.column_names:
        a, b = got.column(name).to_pylist(), sql.column(name).to_pylist()
        if pa.types.is_floating(got.schema.field(name).type):
            assert a == pytest.approx(b, nan_ok=True), name
        else:
            assert a == b, name


def test_re_ingesting_the_corrections_changes_nothing(built, force):
    url = built["urls"]["replayed"]
    store = open_store(url)
    try:
        before = store.scalar("SELECT count(*) FROM allegations_history")
    finally:
        store.close()
    output = openeis("ingest", force / "corrected", "--store", url, "--key-file", built["key"])
    assert "corrections" not in output
    store = open_store(url)
    try:
        assert store.scalar("SELECT count(*) FROM allegations_history") == before
    finally:
        store.close()
