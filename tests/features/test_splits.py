"""Temporal splits: training labels have matured by the test date; labels as known then;
the default plan derived from the test dates and the store's records."""

from __future__ import annotations

from datetime import date

import pytest

from openeis.features import DefinitionError, SplitsConfig, compute_labels, split_plan
from openeis.features.dates import add_months
from openeis.features.splits import maturity_steps, training_dates
from support.feature_stores import make_store


def test_training_labels_have_matured_by_the_test_date():
    plan = split_plan(SplitsConfig(start="2017-01-01", end="2020-01-01", frequency_months=3,
                                   label_maturity_months=12))
    assert plan, "no splits"
    for s in plan:
        assert s.train_labels_known_at == s.test_date
        # the window closed, and then 12 months for its findings to be decided
        assert all(add_months(d, 12 + 12) <= s.test_date for d in s.train_dates)
        assert len(s.train_dates) >= 2
    first = plan[0]
    assert first.test_date == date(2019, 4, 1)  # 2017-01-01 and 2017-04-01 have matured by then
    assert first.train_dates == (date(2017, 1, 1), date(2017, 4, 1))
    # a label maturing exactly on the test date is allowed
    assert date(2017, 4, 1) in first.train_dates  # its label matured exactly on the test date
    no_wait = split_plan(SplitsConfig(start="2017-01-01", end="2020-01-01", frequency_months=3,
                                      label_maturity_months=0))
    assert no_wait[0].test_date == date(2018, 4, 1)
    assert date(2018, 1, 1) in next(s for s in no_wait if s.test_date == date(2019, 1, 1)).train_dates


def test_options():
    plan = split_plan(SplitsConfig(start="2017-01-01", end="2020-01-01", frequency_months=6, label_maturity_months=12,
                                   max_train_dates=2, first_test="2019-07-01", known_at_test_date=False))
    assert [s.test_date for s in plan] == [date(2019, 7, 1), date(2020, 1, 1)]
    assert all(len(s.train_dates) == 2 and s.train_labels_known_at is None for s in plan)
    assert plan[-1].train_dates == (date(2017, 7, 1), date(2018, 1, 1))


def test_the_default_plan_is_derived_from_the_test_date_and_the_records():
    """No [splits] dates: every 12 months back from the latest matured date, over 8 years, and
    not before a year after the label's first record: the defaults work on data of any era."""
    config = SplitsConfig()
    dates = training_dates(date(2006, 1, 1), config, 12, maturity_months=12)
    assert dates[-1] == date(2004, 1, 1) and dates[0] == date(1998, 1, 1) and len(dates) == 7
    assert training_dates(date(2006, 1, 1), config, 12, date(2001, 6, 1), 12)[0] == date(2003, 1, 1)
    assert training_dates(date(2003, 1, 1), config, 12, date(2001, 6, 1), 12) == []
    # the measured maturity moves the latest date; a configured one overrides it
    assert training_dates(date(2006, 1, 1), config, 12, maturity_months=24)[-1] == date(2003, 1, 1)
    fixed = SplitsConfig(label_maturity_months=0)
    assert training_dates(date(2006, 1, 1), fixed, 12, maturity_months=24)[-1] == date(2005, 1, 1)
    quarterly = SplitsConfig(frequency_months=3, lookback_years=6)
    dates = training_dates(date(2006, 1, 1), quarterly, 12, maturity_months=21)
    assert dates[-1] == date(2003, 4, 1) and dates[0] == date(2000, 1, 1)
    assert all(b == add_months(a, 3) for a, b in zip(dates, dates[1:]))
    plan = split_plan(config, test_dates=[date(2006, 1, 1), date(2024, 1, 1)],
                      maturity={date(2006, 1, 1): 12, date(2024, 1, 1): 0})
    assert [s.test_date for s in plan] == [date(2006, 1, 1), date(2024, 1, 1)]
    assert plan[1].train_dates[-1] == date(2023, 1, 1)
    with pytest.raises(DefinitionError, match="give the test dates"):
        split_plan(config)


def test_a_measured_maturity_is_rounded_up_to_whole_steps_of_the_plan():
    assert maturity_steps(0.0, SplitsConfig()) == 0
    assert maturity_steps(15.9, SplitsConfig()) == 24  # yearly steps
    assert maturity_steps(15.9, SplitsConfig(frequency_months=3)) == 18
    assert maturity_steps(18.0, SplitsConfig(frequency_months=3)) == 18
    assert maturity_steps(6.4, SplitsConfig(frequency_months=6)) == 12


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
                                   min_train_dates=1, label_maturity_months=0))
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
