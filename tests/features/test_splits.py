"""Temporal splits: training label windows close by the test date; labels as known then."""

from __future__ import annotations

from datetime import date

from openeis.features import SplitsConfig, compute_labels, split_plan
from openeis.features.dates import add_months
from support.feature_stores import make_store


def test_training_windows_close_on_or_before_the_test_date():
    plan = split_plan(SplitsConfig(start="2017-01-01", end="2020-01-01", frequency_months=3))
    assert plan, "no splits"
    for s in plan:
        assert s.train_labels_known_at == s.test_date
        assert all(add_months(d, 12) <= s.test_date for d in s.train_dates)
        assert len(s.train_dates) >= 2
    first = plan[0]
    assert first.test_date == date(2018, 4, 1)  # 2017-01-01 and 2017-04-01 have closed by then
    assert first.train_dates == (date(2017, 1, 1), date(2017, 4, 1))
    # a window closing exactly on the test date is allowed
    assert date(2018, 1, 1) in next(s for s in plan if s.test_date == date(2019, 1, 1)).train_dates


def test_options():
    plan = split_plan(SplitsConfig(start="2017-01-01", end="2020-01-01", frequency_months=6,
                                   max_train_dates=2, first_test="2019-07-01", known_at_test_date=False))
    assert [s.test_date for s in plan] == [date(2019, 7, 1), date(2020, 1, 1)]
    assert all(len(s.train_dates) == 2 and s.train_labels_known_at is None for s in plan)
    assert plan[-1].train_dates == (date(2018, 7, 1), date(2019, 1, 1))


def test_training_labels_are_replayed_as_known_on_the_test_date(tmp_path):
    # an upheld finding on a complaint recorded 2018-02-01, decided only 2019-06-01
    store = make_store(tmp_path / "s.duckdb", {
        "officers": [{"officer_id": "A", "rank": "constable", "joined_at": "2010-01-01",
                      "recorded_at": "2010-01-01"}],
        "complaints": [{"complaint_id": "K", "source": "public", "occurred_at": "2018-02-01",
                        "recorded_at": "2018-02-01"}],
        "allegations": [{"allegation_id": "a", "complaint_id": "K", "officer_id": "A", "category": "other",
                         "finding": "upheld", "occurred_at": "2018-02-01", "recorded_at": "2018-02-01",
                         "decided_at": "2019-06-01"}],
    })
    plan = split_plan(SplitsConfig(start="2018-01-01", end="2020-01-01", frequency_months=12,
                                   min_train_dates=1))
    by_test = {s.test_date: s for s in plan}
    early, late = by_test[date(2019, 1, 1)], by_test[date(2020, 1, 1)]
    assert early.train_dates == (date(2018, 1, 1),)
    known_early = compute_labels(store, list(early.train_dates), ["sustained_12m"],
                                 known_at=early.train_labels_known_at).to_pylist()
    known_late = compute_labels(store, [date(2018, 1, 1)], ["sustained_12m"],
                                known_at=late.train_labels_known_at).to_pylist()
    store.close()
    assert known_early[0]["sustained_12m"] == 0  # on 2019-01-01 the finding was not yet made
    assert known_late[0]["sustained_12m"] == 1
