"""Every bad row is reported with file, line, column, value and reason; nothing half-written.
The tests that touch a store run on both engines (see `any_store`); the others test the reader."""

from __future__ import annotations

import copy
import json

import pytest
from support.commands import store_digest
from support.handmade import force, write_force

FIELDS = ("file", "line", "column", "reason")


def problems_of(path):
    return json.loads(path.read_text())


def bad_force():
    tables = copy.deepcopy(force())
    officers = tables["officers"]
    officers[0]["rank"] = "Constabel"  # line 2: unknown code
    officers[1]["joined_at"] = "2008-13-45"  # line 3: not a date
    officers[2]["left_at"] = "2010-01-01"  # line 4: left before joined
    allegations = tables["allegations"]
    allegations[0]["finding"] = "upheld"
    allegations[0]["decided_at"] = ""  # line 2: decided finding without its date
    allegations[1]["officer_id"] = "WX999999"  # line 3: unknown officer
    allegations[2]["decided_at"] = "2021-05-05"  # line 4: open with a decision date
    allegations.append(dict(allegations[1], officer_id="WX100002"))  # line 5: duplicate key
    tables["duty_periods"][0]["shifts_worked"] = "sixteen"  # line 2
    tables["duty_periods"][0]["hours_on_duty"] = "many"
    tables["use_of_force"][0]["subject_injured"] = "maybe"
    tables["training"][0]["category"] = ""  # required
    return tables


def test_every_bad_row_is_reported_and_nothing_written(cli, tmp_path, any_store):
    write_force(tmp_path / "in", bad_force())
    cli("init")
    before = store_digest(any_store)
    result = cli("ingest", tmp_path / "in", "--errors-json", "problems.json", expect=1)
    assert "nothing was written" in result.output
    found = {(p["file"], p["line"], p["column"]) for p in problems_of(tmp_path / "problems.json")["errors"]}
    expected = {
        ("officers.csv", 2, "rank"),
        ("officers.csv", 3, "joined_at"),
        ("officers.csv", 4, "left_at"),
        ("allegations.csv", 2, "decided_at"),
        ("allegations.csv", 3, "officer_id"),
        ("allegations.csv", 4, "decided_at"),
        ("allegations.csv", 5, "allegation_id"),
        ("duty_periods.csv", 2, "shifts_worked"),
        ("duty_periods.csv", 2, "hours_on_duty"),
        ("use_of_force.csv", 2, "subject_injured"),
        ("training.csv", 2, "category"),
    }
    assert expected <= found
    # Officer line 3 is invalid, so rows referring to that officer fail the reference check too.
    extra = found - expected
    assert all(column in ("officer_id", "other_officer_id") for _, _, column in extra), extra
    assert store_digest(any_store) == before
    printed = result.output
    assert "officers.csv:2: column rank: value 'Constabel': unknown code" in printed
    assert "allegations.csv:5: column allegation_id: value 'ALX-2': duplicate key: first seen on line 3" in printed


def test_reasons_are_plain(cli, tmp_path, any_store):
    write_force(tmp_path / "in", bad_force())
    cli("init")
    cli("ingest", tmp_path / "in", "--errors-json", "p.json", expect=1)
    reasons = {(p["file"], p["line"], p["column"]): p for p in problems_of(tmp_path / "p.json")["errors"]}
    assert "not a date" in reasons[("officers.csv", 3, "joined_at")]["reason"]
    assert "is before joined_at" in reasons[("officers.csv", 4, "left_at")]["reason"]
    assert "is required when finding is upheld" in reasons[("allegations.csv", 2, "decided_at")]["reason"]
    assert "not found in officers" in reasons[("allegations.csv", 3, "officer_id")]["reason"]
    assert reasons[("allegations.csv", 3, "officer_id")]["value"] == "WX999999"
    assert "must be empty while finding is open" in reasons[("allegations.csv", 4, "decided_at")]["reason"]
    assert "not a whole number" in reasons[("duty_periods.csv", 2, "shifts_worked")]["reason"]
    assert "not a number" in reasons[("duty_periods.csv", 2, "hours_on_duty")]["reason"]
    assert "not true or false" in reasons[("use_of_force.csv", 2, "subject_injured")]["reason"]
    assert "required value is missing" in reasons[("training.csv", 2, "category")]["reason"]


def test_recorded_before_occurred_is_a_warning_not_an_error(cli, tmp_path, any_store):
    tables = force()
    tables["complaints"][0]["recorded_at"] = "2019-12-20"
    write_force(tmp_path / "in", tables)
    cli("init")
    result = cli("ingest", tmp_path / "in")
    assert "warning: complaints.csv:2: column recorded_at: value '2019-12-20': is before occurred_at" in result.output


def test_line_numbers_count_quoted_newlines_and_blank_lines(cli, tmp_path):
    write_force(tmp_path / "in")
    path = tmp_path / "in" / "complaints.csv"
    lines = path.read_text().splitlines()
    # Line 2 has a narrative across three lines; then a blank line; then a bad row.
    header, first, second = lines[0], lines[1], lines[2]
    multi = first.replace("Complainant", '"Complainant\nsaid\n').replace("Crescent", 'Crescent"', 1)
    bad = second.replace("internal", "anonymous-letter")
    path.write_text("\n".join([header, multi, "", bad]) + "\n")
    assert path.read_text().count("\n") == 6
    cli("init")
    cli("ingest", tmp_path / "in", "--errors-json", "p.json", expect=1)
    errors = problems_of(tmp_path / "p.json")["errors"]
    assert [(e["file"], e["line"], e["column"]) for e in errors if e["file"] == "complaints.csv"] == [
        ("complaints.csv", 6, "source")
    ]


def test_wrong_field_count_is_reported_with_its_line(cli, tmp_path):
    write_force(tmp_path / "in")
    path = tmp_path / "in" / "units.csv"
    path.write_text(path.read_text() + "EXTRA,Extra unit,response,2010-01-01,surplus\n")
    cli("init")
    cli("ingest", tmp_path / "in", "--errors-json", "p.json", expect=1)
    errors = problems_of(tmp_path / "p.json")["errors"]
    assert errors[0]["file"] == "units.csv" and errors[0]["line"] == 4
    assert "expected 4 fields" in errors[0]["reason"]


def test_missing_required_column_names_the_file(cli, tmp_path):
    tables = force()
    for row in tables["units"]:
        del row["function"]
    write_force(tmp_path / "in", tables)
    cli("init")
    result = cli("ingest", tmp_path / "in", expect=1)
    assert "units.csv:1: required column(s) missing from the header: function" in result.output


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_all_input_formats_load_the_same(cli, tmp_path, fmt, any_store):
    write_force(tmp_path / fmt, fmt=fmt)
    cli("init")
    result = cli("ingest", tmp_path / fmt)
    assert "ingest batch" in result.output
    from openeis.store import open_store

    store = open_store(any_store)
    counts = {name: store.scalar(f"SELECT count(*) FROM {name}") for name in ("officers", "allegations", "system_access")}
    assert counts == {"officers": 3, "allegations": 3, "system_access": 1}
    assert store.scalar("SELECT count(*) FROM use_of_force WHERE subject_injured = false AND officer_injured = false") == 1
    store.close()


def test_bad_value_in_parquet_names_the_row(cli, tmp_path):
    tables = force()
    tables["officers"][1]["rank"] = "general"
    write_force(tmp_path / "in", tables, fmt="parquet")
    cli("init")
    result = cli("ingest", tmp_path / "in", expect=1)
    assert "officers.parquet:2: column rank: value 'general'" in result.output


def test_byte_order_mark_empty_file_and_bad_utf8(cli, tmp_path):
    write_force(tmp_path / "in")
    (tmp_path / "in" / "commendations.csv").write_text("commendation_id,officer_id,kind,occurred_at,recorded_at\n")
    (tmp_path / "in" / "units.csv").write_bytes(
        "\ufeffunit_id,unit_name,function,recorded_at\nRESP1,Response Team 1,response,2010-01-01\n".encode()
        + b"HQ,Head\xe9quarters,back_office,2010-01-01\n"
    )
    cli("init")
    cli("ingest", tmp_path / "in", "--errors-json", "p.json", expect=1)
    errors = problems_of(tmp_path / "p.json")["errors"]
    assert ("units.csv", 3, "not valid UTF-8 text") in {(e["file"], e["line"], e["reason"]) for e in errors}
    # With the bad byte fixed, the BOM and the header-only file load without complaint.
    (tmp_path / "in" / "units.csv").write_bytes(
        "\ufeffunit_id,unit_name,function,recorded_at\nRESP1,Response Team 1,response,2010-01-01\n"
        "HQ,Headquarters,back_office,2010-01-01\n".encode()
    )
    cli("ingest", tmp_path / "in")
