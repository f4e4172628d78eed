"""Helpers for the feature tests: small stores built directly with SQL, and the hand-made\nforce whose every feature value tests/features/test_handmade.py works out by hand."""

from __future__ import annotations

from pathlib import Path

from openeis.schema import TABLES_BY_NAME
from openeis.store import open_store


def make_store(path: Path, rows: dict[str, list[dict]]):
    """A migrated DuckDB store holding exactly these canonical rows (missing columns NULL)."""
    store = open_store(str(path))
    store.migrate()
    insert(store, rows)
    return store


def insert(store, rows: dict[str, list[dict]]) -> None:
    for name, records in rows.items():
        table = TABLES_BY_NAME[name]
        for record in records:
            unknown = set(record) - set(table.column_names)
            assert not unknown, f"{name}: unknown columns {unknown}"
            columns = list(record)
            marks = ", ".join("?" for _ in columns)
            store.execute(
                f"INSERT INTO {table.qualified_name} ({', '.join(columns)}) VALUES ({marks})",
                [record[c] for c in columns],
            )


def force() -> dict[str, list[dict]]:
    al = lambda i, k, o, cat, f, occ, rec, dec: {  # noqa: E731
        "allegation_id": i, "complaint_id": k, "officer_id": o, "category": cat, "finding": f,
        "occurred_at": occ, "recorded_at": rec, "decided_at": dec}
    return {
        "units": [{"unit_id": "RESP", "function": "response", "recorded_at": "2010-01-01"}],
        "officers": [
            {"officer_id": "A", "rank": "sergeant", "joined_at": "2015-01-01", "recorded_at": "2015-01-01"},
            {"officer_id": "B", "rank": "constable", "joined_at": "2018-01-01", "recorded_at": "2018-01-01"},
            {"officer_id": "C", "rank": "constable", "joined_at": "2019-06-01", "left_at": "2020-12-01",
             "recorded_at": "2019-06-01"},
            {"officer_id": "E", "rank": "constable", "joined_at": "2021-02-01", "recorded_at": "2021-01-20"},
            {"officer_id": "F", "rank": "constable", "joined_at": "2016-01-01", "recorded_at": "2021-06-01"},
        ],
        "postings": [
            {"posting_id": "P1", "officer_id": "A", "unit_id": "RESP", "role": "patrol", "rank": "constable",
             "occurred_at": "2015-01-01", "ends_at": "2020-07-01", "recorded_at": "2015-01-01"},
            {"posting_id": "P2", "officer_id": "A", "unit_id": "RESP", "role": "patrol", "rank": "sergeant",
             "occurred_at": "2020-07-01", "recorded_at": "2020-06-20"},
            {"posting_id": "P3", "officer_id": "B", "unit_id": "RESP", "role": "patrol", "rank": "constable",
             "occurred_at": "2018-01-01", "recorded_at": "2018-01-01"},
        ],
        "complaints": [
            {"complaint_id": k, "source": "public", "occurred_at": occ, "recorded_at": rec}
            for k, occ, rec in [("K1", "2020-10-01", "2020-10-05"), ("K2", "2018-05-01", "2018-05-03"),
                                ("K3", "2020-12-20", "2021-01-15"), ("K4", "2019-01-01", "2019-01-02")]
        ],
        "allegations": [
            al("a1", "K1", "A", "discourtesy", "upheld", "2020-10-01", "2020-10-05", "2020-12-15"),
            al("a2", "K1", "A", "use_of_force", "not_upheld", "2020-10-01", "2020-10-05", "2021-03-01"),
            al("a3", "K2", "A", "discourtesy", "unfounded", "2018-05-01", "2018-05-03", "2018-09-01"),
            al("a4", "K3", "A", "neglect_of_duty", "open", "2020-12-20", "2021-01-15", None),
            al("b1", "K1", "B", "discourtesy", "upheld", "2020-10-01", "2020-10-05", "2020-11-01"),
            al("b2", "K4", "B", "discourtesy", "not_upheld", "2019-01-01", "2019-01-02", "2019-03-01"),
        ],
        "use_of_force": [
            {"use_of_force_id": "u1", "officer_id": "A", "force_type": "taser_drawn", "subject_injured": True,
             "occurred_at": "2020-12-01", "recorded_at": "2020-12-02"},
            {"use_of_force_id": "u2", "officer_id": "A", "force_type": "restraint", "subject_injured": False,
             "occurred_at": "2020-12-31", "recorded_at": "2021-01-02"},
        ],
        "absences": [
            {"absence_id": "s1", "officer_id": "A", "kind": "sickness", "occurred_at": "2020-11-20",
             "ends_at": "2020-11-24", "recorded_at": "2020-11-20"},
            {"absence_id": "s2", "officer_id": "A", "kind": "sickness", "occurred_at": "2020-12-28",
             "ends_at": "2021-01-10", "recorded_at": "2020-12-28"},
            {"absence_id": "l1", "officer_id": "A", "kind": "annual_leave", "occurred_at": "2020-08-01",
             "ends_at": "2020-08-14", "recorded_at": "2020-07-01"},
        ],
        "duty_periods": [
            {"duty_period_id": "d1", "officer_id": "A", "planned_shifts": 22, "shifts_worked": 20,
             "hours_on_duty": 200.0, "arrests": 5, "occurred_at": "2020-11-01", "ends_at": "2020-11-30",
             "recorded_at": "2020-12-01"},
            {"duty_period_id": "d2", "officer_id": "A", "planned_shifts": 18, "shifts_worked": 18,
             "hours_on_duty": 180.0, "arrests": 3, "occurred_at": "2020-12-01", "ends_at": "2020-12-31",
             "recorded_at": "2021-01-02"},
            {"duty_period_id": "d3", "officer_id": "B", "planned_shifts": 10, "shifts_worked": 10,
             "hours_on_duty": 100.0, "arrests": 1, "occurred_at": "2020-11-01", "ends_at": "2020-11-30",
             "recorded_at": "2020-12-01"},
        ],
        "overtime_claims": [
            {"claim_id": "o1", "officer_id": "A", "hours": 4.0, "rate": "plain", "status": "approved",
             "occurred_at": "2020-12-10", "recorded_at": "2020-12-11", "decided_at": "2020-12-12"},
            {"claim_id": "o2", "officer_id": "A", "hours": 6.0, "rate": "plain", "status": "rejected",
             "occurred_at": "2020-12-20", "recorded_at": "2020-12-21", "decided_at": "2021-01-05"},
        ],
        "system_access": [
            {"access_id": "x1", "officer_id": "A", "record_kind": "person", "occurred_at": "2020-12-15 02:00:00",
             "recorded_at": "2020-12-15 02:00:00"},
            {"access_id": "x2", "officer_id": "A", "record_kind": "vehicle", "case_reference": "CASE9",
             "occurred_at": "2020-12-16 10:00:00", "recorded_at": "2020-12-16 10:00:00"},
            {"access_id": "x3", "officer_id": "A", "record_kind": "person", "occurred_at": "2021-01-01 09:00:00",
             "recorded_at": "2021-01-01 09:00:00"},
        ],
        "other_events": [
            {"event_id": "e1", "officer_id": "A", "event_type": "vehicle_accident", "outcome": "blameworthy",
             "occurred_at": "2020-06-01", "recorded_at": "2020-06-02", "decided_at": "2020-08-01"},
            {"event_id": "e2", "officer_id": "A", "event_type": "pursuit", "outcome": "collision",
             "occurred_at": "2020-09-01", "recorded_at": "2020-09-01", "decided_at": "2021-02-01"},
        ],
        "commendations": [{"commendation_id": "c1", "officer_id": "B", "kind": "public_letter",
                           "occurred_at": "2020-05-05", "recorded_at": "2020-06-01"}],
        "training": [{"training_id": "t1", "officer_id": "A", "category": "mandatory", "result": "missed",
                      "occurred_at": "2020-03-03", "recorded_at": "2020-03-04"}],
        "performance_reviews": [{"review_id": "r1", "officer_id": "A", "rating": "below",
                                 "occurred_at": "2020-03-31", "recorded_at": "2020-04-20"}],
        "declarations": [
            {"declaration_id": "g1", "officer_id": "B", "kind": "secondary_employment", "decision": "approved",
             "occurred_at": "2019-01-01", "recorded_at": "2018-12-01", "decided_at": "2018-12-10"},
            {"declaration_id": "g2", "officer_id": "B", "kind": "business_interest", "decision": "refused",
             "occurred_at": "2020-06-01", "ends_at": "2020-09-01", "recorded_at": "2020-06-01",
             "decided_at": "2020-07-01"},
        ],
        "shift_swaps": [{"swap_id": "w1", "officer_id": "B", "premium_day": True, "occurred_at": "2020-12-25",
                         "recorded_at": "2020-12-01"}],
    }
