"""Audit rows: flags and labels joined to restricted.officer_characteristics."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pydantic import ValidationError

from openeis.audit import AuditConfig, audit_rows, build_audit_rows, read_characteristics
from openeis.audit.rows import NOT_RECORDED, age_band_labels, age_bands
from support.feature_stores import make_store

CONFIG = AuditConfig()  # ethnicity, gender, age_band and ethnicity+gender


def scored(officers: list[str], as_of=date(2023, 1, 1)) -> pd.DataFrame:
    return pd.DataFrame({"officer": officers, "as_of": as_of, "flag": [1, 0, 0, 1][: len(officers)],
                         "sustained_12m": [1, 0, 1, 0][: len(officers)], "score": [0.9, 0.1, 0.2, 0.8][: len(officers)]})


def test_age_bands_on_the_as_of_date():
    assert age_band_labels([25, 35, 45, 55]) == ["<25", "25-34", "35-44", "45-54", "55+"]
    as_of = pd.Series([date(2023, 1, 1)] * 6 + [date(2030, 6, 1)])
    born = pd.Series([1999, 1998, 1989, 1988, 1968, None, 1999])
    assert list(age_bands(as_of, born, [25, 35, 45, 55])) == [
        "<25", "25-34", "25-34", "35-44", "55+", NOT_RECORDED, "25-34"]


def test_rows_join_characteristics_and_mark_what_is_missing():
    people = pd.DataFrame({"officer": ["p1", "p2", "p3"], "ethnicity": ["B", "", "A"],
                           "gender": ["F", "M", None], "birth_year": [1990, None, 1960]})
    rows = audit_rows(scored(["p1", "p2", "p3", "p4"]), people, CONFIG, label="sustained_12m")
    assert list(rows.columns) == ["officer", "as_of", "flag", "label", "score", "ethnicity", "gender", "age_band",
                                  "ethnicity+gender"]
    by_officer = rows.set_index("officer")
    assert by_officer.loc["p1", ["ethnicity", "gender", "age_band", "ethnicity+gender"]].tolist() == [
        "B", "F", "25-34", "B+F"]
    assert by_officer.loc["p2", "ethnicity"] == NOT_RECORDED  # empty string
    assert by_officer.loc["p3", "gender"] == NOT_RECORDED and by_officer.loc["p3", "age_band"] == "55+"
    assert by_officer.loc["p4", ["ethnicity", "gender", "age_band"]].tolist() == [NOT_RECORDED] * 3  # no row at all
    assert rows["flag"].tolist() == [1, 0, 0, 1] and rows["label"].tolist() == [1, 0, 1, 0]


def test_rows_refuse_bad_flags_labels_and_duplicates():
    people = pd.DataFrame({"officer": ["p1"], "ethnicity": ["A"], "gender": ["F"], "birth_year": [1990]})
    frame = scored(["p1", "p2"])
    with pytest.raises(ValueError, match="twice"):
        audit_rows(pd.concat([frame, frame]), people, CONFIG, label="sustained_12m")
    with pytest.raises(ValueError, match="0 or 1"):
        audit_rows(frame.assign(flag=[2, 0]), people, CONFIG, label="sustained_12m")
    with pytest.raises(ValueError, match="missing"):
        audit_rows(frame.assign(sustained_12m=[None, 1]), people, CONFIG, label="sustained_12m")
    with pytest.raises(ValueError, match="lack"):
        audit_rows(frame.drop(columns=["flag"]), people, CONFIG, label="sustained_12m")


def test_rows_read_the_store_restricted_table(tmp_path):
    store = make_store(tmp_path / "s.duckdb", {"officer_characteristics": [
        {"officer_id": "0123abcd", "ethnicity": "C", "gender": "F", "birth_year": 1980, "recorded_at": "2015-01-01"},
        {"officer_id": "4567ef01", "ethnicity": "A", "gender": "M", "birth_year": 2001, "recorded_at": "2015-01-01"},
    ]})
    try:
        people = read_characteristics(store)
        rows = build_audit_rows(store, scored(["0123abcd", "4567ef01"]), CONFIG, label="sustained_12m")
    finally:
        store.close()
    assert set(people.columns) >= {"officer", "ethnicity", "gender", "birth_year"}
    assert rows.set_index("officer").loc["0123abcd", "ethnicity+gender"] == "C+F"
    assert rows.set_index("officer").loc["4567ef01", "age_band"] == "<25"


def test_config_checks_attributes_band_and_named_references():
    assert CONFIG.audited_attributes() == ["ethnicity", "gender", "age_band", "ethnicity+gender"]
    for bad in ({"attributes": ["height"]}, {"intersections": [["ethnicity"]]}, {"band": (1.2, 0.8)},
                {"age_bands": [30, 20]}, {"reference": "named"}, {"gate_metrics": ["auc"]}, {"unknown": 1}):
        with pytest.raises(ValidationError):
            AuditConfig(**bad)
    for name, field in AuditConfig.model_fields.items():
        assert field.description, name  # docs/config.md is generated from the descriptions
