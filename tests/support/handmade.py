"""A tiny hand-made force touching every table, with fake names to prove they are dropped.

All names are invented syllables; no real person appears here.
"""

from __future__ import annotations

import copy
import csv
import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FAKE_NAMES = ["Tavrin", "Oskelby", "Mirelle", "Dunhavrek", "Quillon", "Brastovar", "Zefkin Lorrowe"]
FREE_TEXT = "Complainant Quillon Brastovar says the officer shouted at 14 Velmire Crescent"
RAW_OFFICER_IDS = ["WX100001", "WX100002", "WX100003"]


def force() -> dict[str, list[dict]]:
    return {
        "units": [
            {"unit_id": "RESP1", "unit_name": "Response Team 1", "function": "response", "recorded_at": "2010-01-01"},
            {"unit_id": "HQ", "unit_name": "Headquarters", "function": "back_office", "recorded_at": "2010-01-01"},
        ],
        "officers": [
            {"officer_id": "WX100001", "first_name": "Tavrin", "last_name": "Oskelby", "rank": "constable",
             "unit_id": "RESP1", "joined_at": "2012-03-01", "left_at": "", "recorded_at": "2012-03-01"},
            {"officer_id": "WX100002", "first_name": "Mirelle", "last_name": "Dunhavrek", "rank": "sergeant",
             "unit_id": "HQ", "joined_at": "2008-05-01", "left_at": "", "recorded_at": "2008-05-01"},
            {"officer_id": "WX100003", "first_name": "Zefkin Lorrowe", "last_name": "", "rank": "constable",
             "unit_id": "RESP1", "joined_at": "2015-09-01", "left_at": "2021-02-01", "recorded_at": "2015-09-01"},
        ],
        "postings": [
            {"posting_id": "PX-1", "officer_id": "WX100001", "unit_id": "RESP1", "role": "patrol", "rank": "constable",
             "occurred_at": "2012-03-01", "ends_at": "", "recorded_at": "2012-03-01"},
            {"posting_id": "PX-2", "officer_id": "WX100002", "unit_id": "HQ", "role": "administration",
             "rank": "sergeant", "occurred_at": "2008-05-01", "ends_at": "", "recorded_at": "2008-05-01"},
            {"posting_id": "PX-3", "officer_id": "WX100003", "unit_id": "RESP1", "role": "patrol", "rank": "constable",
             "occurred_at": "2015-09-01", "ends_at": "2021-02-01", "recorded_at": "2015-09-01"},
        ],
        "officer_characteristics": [
            {"officer_id": "WX100001", "ethnicity": "B", "gender": "F", "birth_year": "1990", "disability": "N",
             "recorded_at": "2012-03-01"},
            {"officer_id": "WX100002", "ethnicity": "A", "gender": "M", "birth_year": "1980", "disability": "N",
             "recorded_at": "2008-05-01"},
        ],
        "complaints": [
            {"complaint_id": "CRX-2020-0001", "source": "public", "area": "B12", "occurred_at": "2020-01-01",
             "recorded_at": "2020-01-05", "decided_at": "2020-06-01", "narrative": FREE_TEXT,
             "complainant_name": "Quillon Brastovar"},
            {"complaint_id": "CRX-2021-0002", "source": "internal", "area": "B07", "occurred_at": "2021-01-10",
             "recorded_at": "2021-01-11", "decided_at": "", "narrative": "", "complainant_name": ""},
        ],
        "complainants": [
            {"complainant_id": "CPX-1", "complaint_id": "CRX-2020-0001", "person_id": "PERSONX-77",
             "gender": "M", "ethnicity": "C", "age_band": "25-34", "recorded_at": "2020-01-05",
             "first_name": "Quillon", "last_name": "Brastovar", "address": "14 Velmire Crescent"},
        ],
        "allegations": [
            {"allegation_id": "ALX-1", "complaint_id": "CRX-2020-0001", "officer_id": "WX100001",
             "category": "discourtesy", "finding": "upheld", "outcome": "words_of_advice",
             "occurred_at": "2020-01-01", "recorded_at": "2020-01-05", "decided_at": "2020-06-01"},
            {"allegation_id": "ALX-2", "complaint_id": "CRX-2020-0001", "officer_id": "WX100003",
             "category": "discourtesy", "finding": "not_upheld", "outcome": "",
             "occurred_at": "2020-01-01", "recorded_at": "2020-01-05", "decided_at": "2020-06-01"},
            {"allegation_id": "ALX-3", "complaint_id": "CRX-2021-0002", "officer_id": "WX100001",
             "category": "neglect_of_duty", "finding": "open", "outcome": "",
             "occurred_at": "2021-01-10", "recorded_at": "2021-01-11", "decided_at": ""},
        ],
        "use_of_force": [
            {"use_of_force_id": "UFX-1", "officer_id": "WX100001", "incident_id": "INCX-9", "force_type": "taser_drawn",
             "subject_injured": "false", "officer_injured": "no", "occurred_at": "2020-03-03",
             "recorded_at": "2020-03-03", "subject_name": "Brastovar"},
        ],
        "absences": [
            {"absence_id": "ABX-1", "officer_id": "WX100001", "kind": "sickness", "reason": "respiratory",
             "occurred_at": "2020-02-01", "ends_at": "2020-02-03", "recorded_at": "2020-02-01"},
        ],
        "duty_periods": [
            {"duty_period_id": "DPX-1", "officer_id": "WX100001", "unit_id": "RESP1", "planned_shifts": "18",
             "shifts_worked": "16", "hours_on_duty": "160.5", "arrests": "4", "occurred_at": "2020-02-01",
             "ends_at": "2020-02-29", "recorded_at": "2020-03-02"},
        ],
        "overtime_claims": [
            {"claim_id": "OTX-1", "officer_id": "WX100001", "hours": "4", "rate": "time_and_half",
             "reason": "late_finish", "status": "approved", "occurred_at": "2020-02-10T18:00:00",
             "ends_at": "2020-02-10T22:00:00", "recorded_at": "2020-02-11", "decided_at": "2020-02-15"},
        ],
        "shift_swaps": [
            {"swap_id": "SWX-1", "officer_id": "WX100001", "other_officer_id": "WX100003", "premium_day": "true",
             "occurred_at": "2020-12-25", "recorded_at": "2020-12-01", "decided_at": "2020-12-02"},
        ],
        "performance_reviews": [
            {"review_id": "PRX-1", "officer_id": "WX100002", "rating": "meets", "occurred_at": "2020-03-31",
             "recorded_at": "2020-04-20", "reviewer_name": "Mirelle Dunhavrek"},
        ],
        "training": [
            {"training_id": "TRX-1", "officer_id": "WX100001", "category": "mandatory", "course": "PST-2020",
             "result": "passed", "occurred_at": "2020-05-05", "recorded_at": "2020-05-06"},
        ],
        "commendations": [
            {"commendation_id": "CMX-1", "officer_id": "WX100002", "kind": "public_letter",
             "occurred_at": "2019-11-11", "recorded_at": "2019-12-01"},
        ],
        "system_access": [
            {"access_id": "SAX-1", "officer_id": "WX100001", "system": "PNC", "record_kind": "person",
             "subject_id": "SUBJX-555", "case_reference": "", "occurred_at": "2020-04-04T02:13:00",
             "recorded_at": "2020-04-04T02:13:00", "search_terms": "Velmire Crescent"},
        ],
        "declarations": [
            {"declaration_id": "DCX-1", "officer_id": "WX100002", "kind": "secondary_employment",
             "decision": "approved", "occurred_at": "2019-01-01", "ends_at": "", "recorded_at": "2018-12-01",
             "decided_at": "2018-12-10", "business_name": "Oskelby Joinery"},
        ],
        "other_events": [
            {"event_id": "OEX-1", "officer_id": "WX100001", "event_type": "vehicle_accident", "subtype": "minor",
             "outcome": "", "value": "", "occurred_at": "2020-07-07", "recorded_at": "2020-07-08", "decided_at": ""},
        ],
    }


def force_with_allegation(**changes) -> dict[str, list[dict]]:
    """The force with its first allegation (ALX-1, officer WX100001) changed: a later extract
    that decides or corrects it."""
    tables = copy.deepcopy(force())
    tables["allegations"][0].update(changes)
    return tables


def write_force(directory: Path, tables: dict[str, list[dict]] | None = None, fmt: str = "csv") -> Path:
    """Write tables as canonical files (csv, csv.gz or parquet); returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in (tables or force()).items():
        columns = list(rows[0].keys()) if rows else []
        if fmt == "parquet":
            data = pa.table({c: pa.array([row.get(c) or None for row in rows], type=pa.string()) for c in columns})
            pq.write_table(data, directory / f"{name}.parquet")
            continue
        path = directory / f"{name}.csv" if fmt == "csv" else directory / f"{name}.csv.gz"
        opener = gzip.open if fmt == "csv.gz" else open
        with opener(path, "wt", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return directory
