"""Labels: window boundaries, known_at, combinations."""

from __future__ import annotations

from datetime import date

import pytest

from openeis.features import DefinitionError, LabelsConfig, compute_labels
from openeis.config.features import LabelDefinition
from support.feature_stores import make_store

D = date(2020, 1, 1)


def _force():
    def complaint(k, rec):
        return {"complaint_id": k, "source": "public", "occurred_at": rec, "recorded_at": rec}

    def allegation(i, k, o, finding, rec, dec):
        return {"allegation_id": i, "complaint_id": k, "officer_id": o, "category": "discourtesy",
                "finding": finding, "occurred_at": rec, "recorded_at": rec, "decided_at": dec}

    return {
        "officers": [{"officer_id": o, "rank": "constable", "joined_at": "2010-01-01", "recorded_at": "2010-01-01"}
                     for o in "ABCDEFG"],
        "complaints": [complaint("K_at_D", "2020-01-01"), complaint("K_before", "2019-12-31"),
                       complaint("K_last_day", "2020-12-31"), complaint("K_end", "2021-01-01"),
                       complaint("K_late_decision", "2020-03-01")],
        "allegations": [
            allegation("a", "K_at_D", "A", "upheld", "2020-01-01", "2020-05-01"),      # in: recorded on D
            allegation("b", "K_before", "B", "upheld", "2019-12-31", "2020-02-01"),    # out: before D
            allegation("c", "K_last_day", "C", "upheld", "2020-12-31", "2021-03-01"),  # in: last day
            allegation("d", "K_end", "D", "upheld", "2021-01-01", "2021-02-01"),       # out: D + 12 months
            allegation("e", "K_late_decision", "E", "upheld", "2020-03-01", "2021-06-01"),
            allegation("f", "K_at_D", "F", "not_upheld", "2020-01-01", "2020-04-01"),
        ],
        "use_of_force": [
            {"use_of_force_id": "u1", "officer_id": "G", "force_type": "baton", "subject_injured": True,
             "occurred_at": "2020-06-01", "recorded_at": "2020-06-02"},
        ],
    }


@pytest.fixture
def store(tmp_path):
    s = make_store(tmp_path / "s.duckdb", _force())
    yield s
    s.close()


def _labels(store, names, known_at=None, config=None):
    table = compute_labels(store, [D], names, config, known_at)
    return {r["officer"]: {n: r[n] for n in names} for r in table.to_pylist()}


def test_window_is_as_of_inclusive_to_twelve_months_exclusive(store):
    got = _labels(store, ["sustained_12m"])
    assert {o for o, v in got.items() if v["sustained_12m"]} == {"A", "C", "E"}


def test_known_at_counts_only_decisions_made_by_then(store):
    # on 2020-06-01: a (decided 2020-05-01) counts; c, e not decided yet; d not recorded yet
    got = _labels(store, ["sustained_12m", "complaint_12m"], known_at=date(2020, 6, 1))
    assert {o for o, v in got.items() if v["sustained_12m"]} == {"A"}
    # complaints need no decision, but must be recorded by known_at: c (2020-12-31) is not
    assert {o for o, v in got.items() if v["complaint_12m"]} == {"A", "E", "F"}
    # c is decided on 2021-03-01: known from the next day, like everything dated (sources.py)
    got = _labels(store, ["sustained_12m"], known_at=date(2021, 3, 1))
    assert {o for o, v in got.items() if v["sustained_12m"]} == {"A"}
    got = _labels(store, ["sustained_12m"], known_at=date(2021, 3, 2))
    assert {o for o, v in got.items() if v["sustained_12m"]} == {"A", "C"}


def test_force_injury_and_combinations(store):
    got = _labels(store, ["force_injury_12m", "sustained_or_force_injury_12m"])
    assert {o for o, v in got.items() if v["force_injury_12m"]} == {"G"}
    assert {o for o, v in got.items() if v["sustained_or_force_injury_12m"]} == {"A", "C", "E", "G"}


def test_configured_label_with_its_own_window(store):
    config = LabelsConfig(definitions=[LabelDefinition(name="sustained_3m", where="finding = 'upheld'",
                                                       window_months=3, on="complaint_recorded_at")])
    got = _labels(store, ["sustained_3m"], config=config)
    # [2020-01-01, 2020-04-01): a (on D) and e (2020-03-01) in, c (2020-12-31) out
    assert {o for o, v in got.items() if v["sustained_3m"]} == {"A", "E"}


def test_unknown_label_is_refused(store):
    with pytest.raises(DefinitionError):
        _labels(store, ["nope"])
