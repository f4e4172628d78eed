"""Hand-computed feature values for a small hand-made force, every feature family.

As-of dates: D0 = 2020-10-04, D = 2021-01-01, D2 = 2021-04-01 (computed in one build).
Every expected number below was worked out by hand from the rows; the comment says how.
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from openeis.features import FeaturesConfig, features_table
from support.feature_stores import force, make_store

D0, D, D2 = date(2020, 10, 4), date(2021, 1, 1), date(2021, 4, 1)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    store = make_store(tmp_path_factory.mktemp("hand") / "s.duckdb", force())
    table = features_table(store, [D0, D, D2], FeaturesConfig(peer_min_size=2))
    store.close()
    out = {}
    for row in table.to_pylist():
        out[(row["officer"], row["as_of"].date())] = row
    return out


def test_cohort(rows):
    # C left 2020-12-01, E joins 2021-02-01, F's roster entry is recorded 2021-06-01
    assert sorted(k for k in rows if k[1] == D) == [("A", D), ("B", D)]
    assert ("C", D0) in rows and ("C", D) not in rows and ("E", D2) in rows
    assert not any(k[0] == "F" for k in rows)


def test_officer_attributes(rows):
    a, b = rows[("A", D)], rows[("B", D)]
    assert a["tenure_days"] == 2192  # 2015-01-01 -> 2021-01-01: 6 x 365 + 2 leap days
    assert (a["posting_rank"], a["rank_level"], a["posting_role"]) == ("sergeant", 2, "patrol")
    assert (a["unit_function"], a["peer_unit"]) == ("response", "RESP")
    assert a["days_in_posting"] == 184  # P2 from 2020-07-01: Jul..Dec = 31+31+30+31+30+31
    assert rows[("A", D0)]["posting_rank"] == "sergeant"  # P2 recorded 2020-06-20
    assert b["tenure_days"] == 1096 and b["posting_rank"] == "constable"
    assert a["postings_count_1y"] == 1 and b["postings_count_1y"] == 0


def test_allegation_counts_and_windows(rows):
    a = rows[("A", D)]
    # visible on D: a1, a2 (occ 2020-10-01), a3 (2018-05-01); a4 recorded 2021-01-15: not yet
    assert a["allegations_count_all"] == 3
    assert a["allegations_count_5y"] == 3
    assert a["allegations_count_1y"] == 2  # a1, a2
    assert a["allegations_count_180d"] == 2  # window starts 2020-07-05
    assert a["allegations_count_90d"] == 0  # window starts 2020-10-03, after 2020-10-01
    assert a["allegations_count_30d"] == 0
    assert a["complaints_count_all"] == 2  # K1 (two allegations), K2
    assert a["complaints_count_1y"] == 1
    assert a["allegations_days_since"] == 92  # 2020-10-01 -> 2021-01-01
    assert a["allegations_discourtesy_count_all"] == 2  # a1, a3
    assert a["allegations_use_of_force_count_1y"] == 1  # a2
    # trend: last 6 months (2) minus the 6 before (1y - 180d = 0)
    assert a["allegations_trend"] == 2
    assert rows[("A", D2)]["allegations_count_all"] == 4  # a4 recorded by D2


def test_findings_only_once_decided(rows):
    a0, a, a2 = rows[("A", D0)], rows[("A", D)], rows[("A", D2)]
    # D0 = 2020-10-04: a1/a2 not recorded yet (2020-10-05): only a3, unfounded since 2018-09
    assert (a0["allegations_count_all"], a0["allegations_unfounded_count_all"]) == (1, 1)
    # D: a1 upheld (decided 2020-12-15), a2 still open (decided 2021-03-01), a3 unfounded
    assert a["allegations_upheld_count_all"] == 1
    assert a["allegations_open_count_all"] == 1
    assert a["allegations_not_upheld_count_all"] == 0
    assert a["allegations_unfounded_count_all"] == 1
    assert a["allegations_upheld_days_since"] == 92
    assert a["upheld_share_all"] == pytest.approx(0.5)  # 1 upheld / 2 decided
    # D2: a2 decided not_upheld; a4 open
    assert (a2["allegations_open_count_all"], a2["allegations_not_upheld_count_all"]) == (1, 1)
    # other_events outcomes: e1 decided 2020-08-01 counts; e2's decided 2021-02-01 does not on D
    assert a["vehicle_accident_blameworthy_count_5y"] == 1
    assert a["pursuit_collision_count_5y"] == 0 and a2["pursuit_collision_count_5y"] == 1
    assert a["event_vehicle_accident_count_1y"] == 1 and a["event_pursuit_count_1y"] == 1
    # overtime o2 rejected on 2021-01-05: pending on D
    assert a["overtime_rejected_count_1y"] == 0 and a2["overtime_rejected_count_1y"] == 1
    # declarations: g2 refused 2020-07-01
    assert rows[("B", D)]["declarations_refused_count_all"] == 1
    assert rows[("B", D0)]["declarations_refused_count_all"] == 1


def test_use_of_force(rows):
    a = rows[("A", D)]
    # u1 2020-12-01: outside 30d (window starts 2020-12-02), inside 90d; u2 recorded 2021-01-02
    assert (a["use_of_force_count_30d"], a["use_of_force_count_90d"], a["use_of_force_count_all"]) == (0, 1, 1)
    assert a["use_of_force_taser_drawn_count_1y"] == 1
    assert a["use_of_force_subject_injured_count_1y"] == 1
    assert a["use_of_force_days_since"] == 31
    assert rows[("A", D2)]["use_of_force_count_all"] == 2


def test_sickness_spans_clip_at_the_as_of_date(rows):
    a = rows[("A", D)]
    # s1 2020-11-20..24 = 5 days; s2 from 2020-12-28, recorded end 2021-01-10, clipped at D
    # (the days before D): 28, 29, 30, 31 Dec = 4 days
    assert a["sickness_days_90d"] == 9
    assert a["sickness_days_1y"] == 9
    assert a["sickness_spells_1y"] == 2
    assert a["sickness_bradford_1y"] == 36  # 2^2 x 9
    assert a["absence_annual_leave_days_1y"] == 14  # 2020-08-01..14
    # D2 = 2021-04-01: the 90 days before it are 2021-01-01..03-31: s2's days 1..10 Jan = 10
    assert rows[("A", D2)]["sickness_days_90d"] == 10
    # D0: none yet
    assert rows[("A", D0)]["sickness_days_1y"] == 0


def test_exposure_and_rates(rows):
    a = rows[("A", D)]
    # only d1 is recorded by D (d2 on 2021-01-02)
    assert a["duty_shifts_worked_sum_1y"] == 20 and a["duty_arrests_sum_1y"] == 5
    assert a["duty_hours_on_duty_sum_1y"] == 200 and a["duty_missed_shifts_sum_1y"] == 2
    assert a["allegations_per_100_shifts_1y"] == pytest.approx(10.0)  # 100 x 2 / 20
    assert a["use_of_force_per_arrest_1y"] == pytest.approx(0.2)  # 1 / 5
    assert a["allegations_per_1000_hours_1y"] == pytest.approx(10.0)  # 1000 x 2 / 200
    assert a["overtime_count_90d"] == 2 and a["overtime_hours_sum_90d"] == 10
    assert a["overtime_hours_per_shift_1y"] == pytest.approx(0.5)
    assert rows[("B", D)]["allegations_per_100_shifts_1y"] == pytest.approx(10.0)  # 100 x 1 / 10
    # no exposure known: the rate is NULL, not 0
    assert rows[("A", D0)]["allegations_per_100_shifts_1y"] is None


def test_integrity_and_other_families(rows):
    a, b = rows[("A", D)], rows[("B", D)]
    # x3 at 2021-01-01 09:00 is after D (the instant 2021-01-01 00:00)
    assert a["lookups_count_30d"] == 2
    assert a["lookups_no_case_count_30d"] == 1  # x1
    assert a["lookups_night_count_30d"] == 1  # x1 at 02:00
    assert a["training_missed_count_1y"] == 1
    assert a["review_below_count_2y"] == 1
    assert b["commendations_count_1y"] == 1
    assert b["declarations_active_spells_30d"] == 1  # g1 ongoing; g2 ended 2020-09-01
    assert b["premium_swaps_count_1y"] == 1  # occurs 2020-12-25, recorded 2020-12-01


def test_co_accused_network(rows):
    a, b = rows[("A", D)], rows[("B", D)]
    assert a["coaccused_officers_5y"] == 1  # B on K1
    # B on D: b1 upheld (decided 2020-11-01), b2 not upheld: 1/2
    assert a["coaccused_upheld_rate_5y"] == pytest.approx(0.5)
    assert a["coaccused_upheld_5y"] == 1
    # A on D: a1, a2, a3 known (a4 not recorded), a1 upheld: 1/3
    assert b["coaccused_upheld_rate_5y"] == pytest.approx(1 / 3)
    assert rows[("A", D0)]["coaccused_officers_5y"] == 0  # K1 not recorded yet


def test_peer_comparison(rows):
    a, b = rows[("A", D)], rows[("B", D)]
    # RESP/patrol on D: A (2 allegations in 1y, 20 shifts), B (1: b1; 10 shifts)
    assert a["peer_group_size"] == 2
    assert a["allegations_count_1y_peer_ratio"] == pytest.approx((2 + 1) / (1.5 + 1))  # median 1.5
    assert (a["allegations_count_1y_peer_pct"], b["allegations_count_1y_peer_pct"]) == (1.0, 0.0)
    # lambda = 20 shifts x (B's 1 + 0.5) / B's 10 shifts = 3; P(X >= 2) = 1 - e^-3 (1 + 3)
    expected = -math.log10(1 - math.exp(-3) * 4)
    assert a["allegations_count_1y_peer_poisson"] == pytest.approx(expected, rel=1e-6)
    # B: lambda = 10 x (2 + 0.5) / 20 = 1.25; P(X >= 1) = 1 - e^-1.25
    assert b["allegations_count_1y_peer_poisson"] == pytest.approx(-math.log10(1 - math.exp(-1.25)), rel=1e-6)


def test_portable_sql_running_sums_give_the_same_table(tmp_path):
    """The all-SQL formulation (window functions, for other engines) equals the default."""
    store = make_store(tmp_path / "s.duckdb", force())
    try:
        client = features_table(store, [D0, D, D2], FeaturesConfig(peer_min_size=2))
        sql = features_table(store, [D0, D, D2], FeaturesConfig(peer_min_size=2, running_sums="sql"))
    finally:
        store.close()
    assert client.column_names == sql.column_names
    for name in client.column_names:
        a, b = client.column(name).to_pylist(), sql.column(name).to_pylist()
        if isinstance(a[0], float) or isinstance(b[0], float):
            assert a == pytest.approx(b, nan_ok=True), name
        else:
            assert a == b, name


def test_officer_batches_give_the_same_table(tmp_path):
    """Large stores are built in officer batches; peers and the network cross batches."""
    store = make_store(tmp_path / "s.duckdb", force())
    try:
        one = features_table(store, [D0, D, D2], FeaturesConfig(peer_min_size=2, officer_batches=1))
        three = features_table(store, [D0, D, D2], FeaturesConfig(peer_min_size=2, officer_batches=3))
    finally:
        store.close()
    assert one.to_pylist() == three.to_pylist()
