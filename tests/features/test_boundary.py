"""The as-of boundary, on both sides, for date-only and timestamped values (sources.py).

D is the instant D 00:00. What is dated D (recorded, decided, occurred, ended), at any time of
that day, is known from D + 1: it is a label event for the window that starts at D and never a
feature on D. A start recorded in advance (a joining date, a posting) applies from its own day.
Every case below has a twin a day (or a second) away on the other side of the boundary.
"""

from __future__ import annotations

from datetime import date

import pytest

from openeis.features import FeaturesConfig, compute_labels, features_table
from support.feature_stores import make_store

D, NEXT = date(2021, 1, 1), date(2021, 1, 2)
EARLY = date(2020, 6, 1)


def _officer(o: str, joined: str = "2015-01-01", recorded: str | None = None, left: str | None = None) -> dict:
    return {"officer_id": o, "rank": "constable", "joined_at": joined, "recorded_at": recorded or joined,
            "left_at": left}


def _allegation(i: str, k: str, o: str, rec: str, occ: str | None = None, finding: str = "open",
                dec: str | None = None) -> dict:
    return {"allegation_id": i, "complaint_id": k, "officer_id": o, "category": "discourtesy",
            "finding": finding, "occurred_at": occ or rec, "recorded_at": rec, "decided_at": dec}


def _posting(i: str, o: str, rank: str, start: str, recorded: str, ends: str | None = None) -> dict:
    return {"posting_id": i, "officer_id": o, "unit_id": "RESP", "role": "patrol", "rank": rank,
            "occurred_at": start, "ends_at": ends, "recorded_at": recorded}


def _force() -> dict[str, list[dict]]:
    allegations = [
        # A: complaints recorded the day before D (date-only, and 23:30) and on D (date-only,
        # midnight exactly, 08:00)
        _allegation("a_prev", "K_prev", "A", "2020-12-31"),
        _allegation("a_ts_before", "K_ts_before", "A", "2020-12-31 23:30:00"),
        _allegation("a_on", "K_on", "A", "2021-01-01", occ="2020-12-27"),
        _allegation("a_ts_midnight", "K_ts_midnight", "A", "2021-01-01 00:00:00"),
        _allegation("a_ts_morning", "K_ts_morning", "A", "2021-01-01 08:00:00", occ="2020-12-31 22:00:00"),
        # B: findings decided the day before D, on D, and at 06:00 on D
        _allegation("b_before", "K_b", "B", "2020-06-01", finding="upheld", dec="2020-12-31"),
        _allegation("b_on", "K_b", "B", "2020-06-01", finding="upheld", dec="2021-01-01"),
        _allegation("b_ts_on", "K_b", "B", "2020-06-01", finding="upheld", dec="2021-01-01 06:00:00"),
        # B2: one finding, decided on D
        _allegation("b2_on", "K_b2", "B2", "2020-06-01", finding="upheld", dec="2021-01-01"),
    ]
    complaints = {a["complaint_id"]: {"complaint_id": a["complaint_id"], "source": "public",
                                      "occurred_at": a["occurred_at"], "recorded_at": a["recorded_at"]}
                  for a in allegations}
    return {
        "units": [{"unit_id": "RESP", "function": "response", "recorded_at": "2010-01-01"}],
        "officers": [
            _officer("A"), _officer("B"), _officer("B2"), _officer("C"), _officer("P"), _officer("Q"),
            _officer("R"),
            _officer("J_known", joined="2021-01-01", recorded="2020-12-20"),  # joins on D, known before
            _officer("J_on", joined="2021-01-01", recorded="2021-01-01"),  # joins on D, recorded on D
            _officer("T_before", recorded="2020-12-31 23:59:00"),
            _officer("T_after", recorded="2021-01-01 00:00:01"),
            _officer("L_on", left="2021-01-01"),  # leaves on D: not known until D + 1
            _officer("L_before", left="2020-12-31"),
        ],
        "postings": [
            # P moves on D, recorded in advance: the new posting applies from D
            _posting("p_old", "P", "constable", "2019-01-01", "2019-01-01", ends="2021-01-01"),
            _posting("p_new", "P", "sergeant", "2021-01-01", "2020-12-27"),
            # Q moves on D, recorded on D: on D the old posting still holds
            _posting("q_old", "Q", "constable", "2019-01-01", "2019-01-01", ends="2021-01-01"),
            _posting("q_new", "Q", "sergeant", "2021-01-01", "2021-01-01"),
            # R's posting ended the day before D (exclusive end)
            _posting("r_old", "R", "constable", "2019-01-01", "2019-01-01", ends="2020-12-31"),
        ],
        "complaints": list(complaints.values()),
        "allegations": allegations,
        "use_of_force": [
            # C: 90 days before D (in the 90-day window), 91 days before (date-only and 23:00)
            {"use_of_force_id": u, "officer_id": "C", "force_type": "baton", "occurred_at": t, "recorded_at": t}
            for u, t in [("u90", "2020-10-03"), ("u91", "2020-10-02"), ("u91_ts", "2020-10-02 23:00:00")]
        ],
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = make_store(tmp_path_factory.mktemp("boundary") / "s.duckdb", _force())
    yield s
    s.close()


@pytest.fixture(scope="module")
def rows(store):
    table = features_table(store, [D, NEXT], FeaturesConfig(peer_min_size=2))
    return {(r["officer"], r["as_of"].date()): r for r in table.to_pylist()}


def test_records_dated_on_the_as_of_day_are_not_yet_known(rows):
    a, a_next = rows[("A", D)], rows[("A", NEXT)]
    # on D: recorded on 2020-12-31 (date-only, and at 23:30); not those of D (any time of day)
    assert a["allegations_count_all"] == 2 and a["complaints_count_all"] == 2
    assert a_next["allegations_count_all"] == 5
    # days since: the day it happened to D (yesterday: 1)
    assert a["allegations_days_since"] == 1
    assert a_next["allegations_days_since"] == 1  # a_ts_morning occurred 2020-12-31 22:00


def test_decisions_count_from_the_day_after_they_are_dated(rows):
    b, b_next = rows[("B", D)], rows[("B", NEXT)]
    assert (b["allegations_upheld_count_all"], b["allegations_open_count_all"]) == (1, 2)
    assert (b_next["allegations_upheld_count_all"], b_next["allegations_open_count_all"]) == (3, 0)


def test_windows_hold_the_days_before_the_as_of_date(rows):
    c = rows[("C", D)]
    # the 90 days before 2021-01-01 are 2020-10-03 .. 2020-12-31
    assert (c["use_of_force_count_90d"], c["use_of_force_count_180d"]) == (1, 3)
    assert c["use_of_force_days_since"] == 90


def test_cohort_starts_apply_from_their_day_ends_from_the_next(rows):
    on_d = {o for o, d in rows if d == D}
    on_next = {o for o, d in rows if d == NEXT}
    assert "J_known" in on_d  # joins on D, roster entry recorded before D
    assert "J_on" not in on_d and "J_on" in on_next  # roster entry recorded on D
    assert "T_before" in on_d and "T_after" not in on_d and "T_after" in on_next
    assert "L_on" in on_d and "L_on" not in on_next  # left on D: known from D + 1
    assert "L_before" not in on_d


def test_postings_recorded_before_apply_from_their_start(rows):
    # P's move on D was recorded before D: sergeant from D, a posting started 0 days ago
    p = rows[("P", D)]
    assert (p["posting_rank"], p["days_in_posting"], p["postings_count_1y"]) == ("sergeant", 0, 1)
    # Q's move on D was recorded on D: on D the old posting (its end is dated D) still holds
    q, q_next = rows[("Q", D)], rows[("Q", NEXT)]
    assert (q["posting_rank"], q["postings_count_1y"]) == ("constable", 0)
    assert (q_next["posting_rank"], q_next["days_in_posting"]) == ("sergeant", 1)
    # R's posting ended (exclusive) on 2020-12-31: none on D
    assert rows[("R", D)]["posting_rank"] is None and rows[("R", D)]["peer_unit"] is None


def _labels(store, as_of: date, names: list[str], known_at: date | None = None) -> dict:
    table = compute_labels(store, [as_of], names, known_at=known_at)
    return {r["officer"]: {n: r[n] for n in names} for r in table.to_pylist()}


def test_what_is_dated_on_the_as_of_day_is_a_label_event(store):
    on_d = _labels(store, D, ["complaint_12m"])
    # A's complaints of D (date-only, midnight, 08:00) are in D's window; those of the day before not
    assert on_d["A"]["complaint_12m"] == 1
    assert _labels(store, NEXT, ["complaint_12m"])["A"]["complaint_12m"] == 0
    # the same complaints, known at D, are not known yet
    assert _labels(store, D, ["complaint_12m"], known_at=D)["A"]["complaint_12m"] == 0
    assert _labels(store, D, ["complaint_12m"], known_at=NEXT)["A"]["complaint_12m"] == 1


def test_a_finding_decided_on_the_known_at_day_is_not_known_then(store):
    assert _labels(store, EARLY, ["sustained_12m"], known_at=D)["B2"]["sustained_12m"] == 0
    assert _labels(store, EARLY, ["sustained_12m"], known_at=NEXT)["B2"]["sustained_12m"] == 1
    assert _labels(store, EARLY, ["sustained_12m"], known_at=D)["B"]["sustained_12m"] == 1  # b_before


# -- a synthetic force cut at D, on both engines -----------------------------------------------

CUT = date(2017, 7, 1)  # within the last year, where the synthetic force has IT look-ups


@pytest.fixture(scope="module")
def cut_force(tmp_path_factory):
    from support.canonical_cut import cut_canonical
    from support.replay import openeis

    root = tmp_path_factory.mktemp("synth-cut")
    openeis("synth", "--officers", 80, "--years", 5, "--seed", 4, "--start", "2013-01-01",
            "--out", root / "whole", "--format", "parquet")
    cut_canonical(root / "whole", root / "cut", CUT)
    return root


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_force_cut_at_d_gives_the_features_and_labels_known_at_d(engine, cut_force, request, tmp_path):
    """What the force's database held when D began (its files cut at D: nothing recorded,
    decided or ended on or after D) gives the same cohorts, features on D and D - 6 months
    and labels known at D as the whole force, every column."""
    from openeis.features.dates import add_months
    from openeis.features.labels import label_definitions
    from openeis.store import open_store
    from support.replay import ORDER, assert_identical, openeis

    key = tmp_path / "force.key"
    dates = [add_months(CUT, -6), CUT]
    tables = {}
    for name in ("whole", "cut"):
        if engine == "duckdb":
            url = str(tmp_path / f"{name}.duckdb")
        else:
            url = request.getfixturevalue("postgres_url") if name == "whole" else _second_database(request, name)
        openeis("init", "--store", url, "--key-file", key)
        openeis("ingest", cut_force / name, "--store", url, "--key-file", key)
        store = open_store(url)
        try:
            tables[name] = (features_table(store, dates, FeaturesConfig(peer_min_size=2)).sort_by(ORDER),
                            compute_labels(store, dates, list(label_definitions()), known_at=CUT).sort_by(ORDER))
            if name == "whole":  # not vacuous: the whole force knows more after D
                assert store.scalar("SELECT count(*) FROM allegations WHERE decided_at >= ?", [CUT]) > 0
        finally:
            store.close()
    for whole, cut in zip(tables["whole"], tables["cut"]):
        assert_identical(cut, whole)
    assert any(tables["whole"][0].column("lookups_count_1y").to_pylist())  # timestamped look-ups


def _second_database(request, name: str) -> str:
    import os

    server = request.getfixturevalue("postgres_server")
    database = f"openeis_cut_{name}_{os.getpid()}"
    server.admin(f'DROP DATABASE IF EXISTS "{database}"')
    server.admin(f'CREATE DATABASE "{database}"')
    request.addfinalizer(lambda: server.admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    return server.url(database)
