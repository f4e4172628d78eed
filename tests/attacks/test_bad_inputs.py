"""Every bad input is a clear refusal (issue 21, items 5-7): `openeis ingest` exits 1 with the
file (and for a bad value its line, column and value) and the reason, prints no traceback,
and leaves the store exactly as it was (the access log and store_meta included).

Before: ten inputs crashed with a traceback (integers beyond 64 bits, a truncated gzip, a
.csv.gz that is not gzip, Parquet list and struct columns, a looping or dangling symlink, a
cell over 131,072 bytes next to a bad row), impossible values were stored (infinity,
-infinity and epoch as dates, words after a time dropped, a +05:00 offset dropped, negative
shifts and hours, NUL bytes), and a header column `[/bold]` committed the batch and then
crashed the summary with exit code 1.

The catalogue below holds each of those and more: 96 kinds of bad value or bad file. It runs
on a DuckDB store that already holds the hand-made force; a few kinds run on PostgreSQL too.
"""

from __future__ import annotations

import copy
import gzip
import os
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from openeis.cli import app
from support.attacks import full_digest
from support.handmade import force, write_force

LOCATED = re.compile(r"^(?P<file>[\w.\-]+):(?P<line>\d+)(: column (?P<column>\w+))?(: value .*)?: \S.*$")
FILE_REASON = re.compile(r"^error: (?P<file>[\w.\-/]+)(:\d+)?: \S.*$")


# -- bad values: (table, row, column, value, words of the reason) ------------------------------

def _value(table: str, column: str, value: str | None, reason: str, row: int = 0, shown_at: str | None = None):
    """`shown_at`: the column the problem is reported on, when not the one spoilt."""
    return ("value", table, row, column, value, reason, shown_at or column)


DATE_REASON = "not a date"
VALUES = {
    # dates: only YYYY-MM-DD[THH:MM[:SS[.f]]][Z|offset], within the configured span
    "date infinity": _value("complaints", "occurred_at", "infinity", DATE_REASON),
    "date -infinity": _value("complaints", "occurred_at", "-infinity", DATE_REASON),
    "date epoch": _value("complaints", "occurred_at", "epoch", DATE_REASON),
    "date now": _value("complaints", "occurred_at", "now", DATE_REASON),
    "date today": _value("complaints", "recorded_at", "today", DATE_REASON),
    "date with trailing words": _value("complaints", "occurred_at", "2015-01-01T06:45:00 garbage", DATE_REASON),
    "date with a space before the offset": _value("complaints", "occurred_at", "2015-01-01T06:45:00 +05:00",
                                                  DATE_REASON),
    "date 30 February": _value("complaints", "occurred_at", "2015-02-30", DATE_REASON),
    "date month 13": _value("complaints", "occurred_at", "2015-13-01", DATE_REASON),
    "date compact": _value("complaints", "occurred_at", "20150101", DATE_REASON),
    "date day first": _value("complaints", "occurred_at", "01/02/2015", DATE_REASON),
    "date hour 25": _value("overtime_claims", "ends_at", "2020-02-10T25:00:00", DATE_REASON),
    "date offset beyond 14 hours": _value("overtime_claims", "ends_at", "2020-02-10T22:00:00+15:00", DATE_REASON),
    "date offset minutes 61": _value("overtime_claims", "ends_at", "2020-02-10T22:00:00+05:61", DATE_REASON),
    "date NaN": _value("complaints", "occurred_at", "NaN", DATE_REASON),
    "date too early": _value("complaints", "occurred_at", "1899-12-31", "implausible date"),
    "date typo 0215": _value("complaints", "occurred_at", "0215-01-01", "implausible date"),
    "date too late": _value("complaints", "occurred_at", "2101-01-01", "implausible date"),
    "date 9999-12-31": _value("declarations", "ends_at", "9999-12-31", "implausible date"),
    "date with an offset that moves it past the span": _value("complaints", "occurred_at",
                                                             "2100-12-31T23:30:00-01:00", "implausible date"),
    "date missing": _value("complaints", "occurred_at", "", "required value is missing"),
    # whole numbers: 64 bits, no fractions, not negative where they count
    "integer beyond int64": _value("duty_periods", "arrests", "99999999999999999999", "out of range"),
    "integer beyond -int64": _value("duty_periods", "planned_shifts", "-99999999999999999999", "out of range"),
    "integer 2**63": _value("duty_periods", "arrests", "9223372036854775808", "out of range"),
    "integer with a fraction": _value("duty_periods", "arrests", "1.5", "not a whole number"),
    "integer in exponent form": _value("duty_periods", "arrests", "1e3", "not a whole number"),
    "integer in words": _value("duty_periods", "shifts_worked", "sixteen", "not a whole number"),
    "integer in hex": _value("duty_periods", "arrests", "0x10", "not a whole number"),
    "integer in other digits": _value("duty_periods", "arrests", "\u0661\u0662", "not a whole number"),
    "negative shifts": _value("duty_periods", "shifts_worked", "-3", "must be 0 or more"),
    "negative planned shifts": _value("duty_periods", "planned_shifts", "-1", "must be 0 or more"),
    "negative arrests": _value("duty_periods", "arrests", "-4", "must be 0 or more"),
    "birth year 1850": _value("officer_characteristics", "birth_year", "1850", "implausible year"),
    "birth year 2200": _value("officer_characteristics", "birth_year", "2200", "implausible year"),
    # numbers: finite, not negative where they count
    "hours NaN": _value("overtime_claims", "hours", "nan", "not a number"),
    "hours infinity": _value("overtime_claims", "hours", "inf", "not a number"),
    "hours -infinity": _value("overtime_claims", "hours", "-Infinity", "not a number"),
    "hours 1e400": _value("overtime_claims", "hours", "1e400", "not a number"),
    "hours negative": _value("overtime_claims", "hours", "-5", "must be 0 or more"),
    "hours on duty negative": _value("duty_periods", "hours_on_duty", "-160.5", "must be 0 or more"),
    "hours with a decimal comma": _value("overtime_claims", "hours", "4,5", "not a number"),
    "hours in words": _value("overtime_claims", "hours", "four", "not a number"),
    "event value infinity": _value("other_events", "value", "Infinity", "not a number"),
    # true/false, codes, required values
    "boolean maybe": _value("use_of_force", "subject_injured", "maybe", "not true or false"),
    "boolean 2": _value("shift_swaps", "premium_day", "2", "not true or false"),
    "unknown code": _value("officers", "rank", "Constabel", "unknown code"),
    "markup as a code": _value("officers", "rank", "[/bold]", "unknown code"),
    "formula as a code": _value("allegations", "category", '=HYPERLINK("http://x.example")', "unknown code"),
    "required code missing": _value("training", "category", "", "required value is missing"),
    # control characters in any value
    "NUL in an identifier": _value("units", "unit_id", "RE\x00SP1", "control character"),
    "NUL in a date": _value("complaints", "occurred_at", "2015-01-01\x00", "control character"),
    "escape sequence in a code": _value("officers", "rank", "constable\x1b[2J", "control character"),
    "carriage return in an identifier": _value("allegations", "allegation_id", "ALX\r-1", "control character"),
    "tab in an identifier": _value("postings", "posting_id", "PX\t1", "control character"),
    "DEL in a code": _value("absences", "kind", "sick\x7fness", "control character"),
    "C1 control in text": _value("system_access", "system", "P\u0085NC", "control character"),
    "line break in an officer reference": _value("training", "officer_id", "WX100001\nWX100002", "control character"),
    # references, keys, spans, decisions
    "unknown officer": _value("allegations", "officer_id", "WX999999", "not found in officers"),
    "unknown unit": _value("postings", "unit_id", "NOWHERE", "not found in units"),
    "end before start": _value("absences", "ends_at", "2020-01-01", "is before occurred_at"),
    "decided finding without its date": _value("allegations", "decided_at", "", "is required when finding"),
    "open finding with a date": _value("allegations", "decided_at", "2021-05-05", "must be empty", row=2),
    "pending claim with a decision date": _value("overtime_claims", "status", "pending", "must be empty",
                                                 shown_at="decided_at"),
}


# -- bad files: a function that spoils the input directory, and words of the reason -------------

def _rows(directory: Path, table: str) -> list[dict]:
    import csv

    with open(directory / f"{table}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _gzip(directory: Path, table: str) -> bytes:
    data = (directory / f"{table}.csv").read_bytes()
    (directory / f"{table}.csv").unlink()
    return gzip.compress(data)


def truncated_gzip(d):
    data = _gzip(d, "units")
    (d / "units.csv.gz").write_bytes(data[: len(data) // 2])


def not_gzip(d):
    (d / "units.csv").rename(d / "units.csv.gz")


def gzip_of_garbage(d):
    (d / "units.csv").unlink()
    (d / "units.csv.gz").write_bytes(gzip.compress(os.urandom(3000)))


def gzip_with_a_corrupt_block(d):
    data = bytearray(_gzip(d, "units"))
    data[len(data) // 2] ^= 0xFF
    (d / "units.csv.gz").write_bytes(bytes(data))


def _parquet(d: Path, table: str, extra: dict | None = None, replace: dict | None = None):
    rows = _rows(d, table)
    (d / f"{table}.csv").unlink()
    columns = {k: pa.array([r[k] or None for r in rows], pa.string()) for k in rows[0]}
    columns.update(replace or {})
    columns.update(extra or {})
    pq.write_table(pa.table(columns), d / f"{table}.parquet")


def parquet_list_in_a_canonical_column(d):
    _parquet(d, "units", replace={"unit_name": pa.array([["a", "b"], ["c"]])})


def parquet_struct_in_a_canonical_column(d):
    _parquet(d, "units", replace={"function": pa.array([{"x": 1}, {"x": 2}])})


def parquet_map_in_a_canonical_column(d):
    _parquet(d, "units", replace={"unit_id": pa.array([[("k", 1)], [("k", 2)]], pa.map_(pa.string(), pa.int64()))})


def parquet_invalid_utf8(d):
    _parquet(d, "units", replace={"unit_id": pa.array([b"RESP1", b"\xff\xfe"], pa.binary())})


def parquet_uint64_beyond_int64(d):
    _parquet(d, "duty_periods", replace={"arrests": pa.array([2**64 - 1], pa.uint64())})


def parquet_garbage(d):
    (d / "units.csv").unlink()
    (d / "units.parquet").write_bytes(b"PAR1" + os.urandom(500) + b"PAR1")


def parquet_truncated(d):
    _parquet(d, "units")
    data = (d / "units.parquet").read_bytes()
    (d / "units.parquet").write_bytes(data[: len(data) // 2])


def symlink_loop(d):
    (d / "complaints.csv").unlink()
    os.symlink("complaints.csv", d / "complaints.csv")


def symlink_dangling(d):
    (d / "complaints.csv").unlink()
    os.symlink("nowhere.csv", d / "complaints.csv")


def named_pipe(d):
    (d / "commendations.csv").unlink()
    os.mkfifo(d / "commendations.csv")


def big_cell_next_to_a_bad_row(d):
    path = d / "officers.csv"
    lines = path.read_text().splitlines()
    lines.append("WX100009,Big," + "x" * 140_000 + ",constable,RESP1,2012-03-01,,2012-03-01")
    lines.append("only,two")
    path.write_text("\n".join(lines) + "\n")


def empty_file(d):
    (d / "units.csv").write_bytes(b"")


def missing_required_column(d):
    text = (d / "units.csv").read_text().replace("unit_id,", "unit,", 1)
    (d / "units.csv").write_text(text)


def header_column_twice(d):
    text = (d / "units.csv").read_text().splitlines()
    text[0] += ",unit_id"
    (d / "units.csv").write_text("\n".join(line + (",X" if i else "") for i, line in enumerate(text)) + "\n")


def invalid_utf8_in_a_row(d):
    with open(d / "units.csv", "ab") as handle:
        handle.write(b"U\xff\xfe9,Bad bytes,response,2010-01-01\n")


def too_many_fields(d):
    with open(d / "units.csv", "a") as handle:
        handle.write("U9,Too many,response,2010-01-01,extra,fields\n")


def too_few_fields(d):
    with open(d / "units.csv", "a") as handle:
        handle.write("U9,Too few\n")


def unterminated_quote(d):
    with open(d / "units.csv", "a") as handle:
        handle.write('U9,"never closed,response,2010-01-01\n')


def binary_garbage_csv(d):
    (d / "units.csv").write_bytes(os.urandom(2000).replace(b"\n", b"x"))


def two_files_for_one_table(d):
    shutil.copy(d / "units.csv", d / "units.csv.gz")


def no_canonical_files(d):
    for path in d.iterdir():
        path.rename(d / f"{path.name}.txt")


def duplicate_key(d):
    with open(d / "units.csv", "a") as handle:
        handle.write("HQ,Again,back_office,2010-01-01\n")


def nul_in_the_header(d):
    text = (d / "units.csv").read_text().replace("unit_name", "unit\x00name", 1)
    (d / "units.csv").write_text(text)


FILES = {
    "truncated gzip": (truncated_gzip, "units.csv.gz: the compressed file is cut short"),
    "a .csv.gz that is not gzip": (not_gzip, "units.csv.gz: not a gzip file"),
    "gzip of binary garbage": (gzip_of_garbage, "units.csv.gz"),
    "gzip with a corrupt block": (gzip_with_a_corrupt_block, "units.csv.gz"),
    "Parquet list column": (parquet_list_in_a_canonical_column, "column unit_name holds list"),
    "Parquet struct column": (parquet_struct_in_a_canonical_column, "column function holds struct"),
    "Parquet map column": (parquet_map_in_a_canonical_column, "column unit_id holds map"),
    "Parquet bytes that are not UTF-8": (parquet_invalid_utf8, "units.parquet"),
    "Parquet uint64 beyond int64": (parquet_uint64_beyond_int64, "out of range"),
    "Parquet garbage": (parquet_garbage, "units.parquet: not a readable Parquet file"),
    "Parquet cut short": (parquet_truncated, "units.parquet: not a readable Parquet file"),
    "symlink loop": (symlink_loop, "complaints.csv: a symbolic link that leads back to itself"),
    "dangling symlink": (symlink_dangling, "complaints.csv: a symbolic link to nowhere.csv, which does not exist"),
    "named pipe": (named_pipe, "commendations.csv: not a regular file"),
    "cell over 131,072 bytes next to a bad row": (big_cell_next_to_a_bad_row, "officers.csv:6: expected 8 fields"),
    "empty file": (empty_file, "units.csv:1: the file is empty"),
    "required column missing": (missing_required_column, "required column(s) missing"),
    "header column twice": (header_column_twice, "appears twice in the header"),
    "invalid UTF-8 in a row": (invalid_utf8_in_a_row, "units.csv:4: not valid UTF-8"),
    "too many fields": (too_many_fields, "units.csv:4: expected"),
    "too few fields": (too_few_fields, "units.csv:4: expected"),
    "unterminated quote": (unterminated_quote, "units.csv:4"),
    "binary garbage as CSV": (binary_garbage_csv, "units.csv"),
    "two files for one table": (two_files_for_one_table, "two files for table units"),
    "no canonical files": (no_canonical_files, "no canonical files found"),
    "duplicate key": (duplicate_key, "duplicate key"),
    "NUL in the header": (nul_in_the_header, "units.csv:1: column name 'unit\\x00name' holds a control character"),
}


def _spoil_value(directory: Path, table: str, row: int, column: str, value) -> None:
    tables = copy.deepcopy(force())
    tables[table][row][column] = value
    write_force(directory, tables)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A DuckDB store holding the hand-made force, copied for each case."""
    work = tmp_path_factory.mktemp("bad-inputs")
    write_force(work / "in")
    runner = CliRunner()
    env = {"OPENEIS_STORE": str(work / "openeis.duckdb"), "OPENEIS_KEY_FILE": None, "OPENEIS_CONFIG": None}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    assert runner.invoke(app, ["ingest", str(work / "in")], env=env).exit_code == 0
    return work


def _copy_store(template: Path, target: Path) -> str:
    for name in ("openeis.duckdb", "openeis.key"):
        shutil.copy(template / name, target / name)
    os.chmod(target / "openeis.key", 0o600)
    return str(target / "openeis.duckdb")


def _refused(url: str, directory: Path, *reason: str) -> str:
    """Ingest `directory`: exit 1, no traceback, every stderr line a located message, the
    reason shown, and the store untouched."""
    before = full_digest(url)
    result = CliRunner().invoke(app, ["ingest", str(directory), "--store", url],
                                env={"OPENEIS_KEY_FILE": None, "OPENEIS_CONFIG": None})
    output = result.output
    assert result.exit_code == 1, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    for words in reason:
        assert words in output, (words, output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: ")
    for line in lines[:-1]:
        assert LOCATED.match(line) or line.startswith("... and "), line
    assert LOCATED.match(lines[-1].removeprefix("error: ")) or FILE_REASON.match(lines[-1]) or \
        "nothing was written" in lines[-1], lines[-1]
    assert full_digest(url) == before
    return output


@pytest.mark.parametrize("kind", list(VALUES))
def test_a_bad_value_is_refused_where_it_is(template, tmp_path, kind):
    _, table, row, column, value, reason, shown_at = VALUES[kind]
    url = _copy_store(template, tmp_path)
    _spoil_value(tmp_path / "in", table, row, column, value)
    output = _refused(url, tmp_path / "in", reason)
    assert f"{table}.csv:{row + 2}: column {shown_at}" in output


@pytest.mark.parametrize("kind", list(FILES))
def test_a_bad_file_is_refused_by_name(template, tmp_path, kind):
    spoil, reason = FILES[kind]
    url = _copy_store(template, tmp_path)
    write_force(tmp_path / "in")
    spoil(tmp_path / "in")
    _refused(url, tmp_path / "in", reason)


@pytest.mark.parametrize("where", ["a missing directory", "a file, not a directory"])
def test_a_bad_directory_is_refused(template, tmp_path, where):
    url = _copy_store(template, tmp_path)
    target = tmp_path / "absent"
    if where != "a missing directory":
        target.write_text("units.csv")
    _refused(url, target, "absent: not a directory")


@pytest.mark.parametrize("kind", ["integer beyond int64", "date infinity", "NUL in an identifier",
                                  "hours negative", "date with trailing words"])
def test_bad_values_on_both_engines(cli, tmp_path, any_store, kind):
    _, table, row, column, value, reason, _ = VALUES[kind]
    write_force(tmp_path / "good")
    cli("init")
    cli("ingest", tmp_path / "good")
    _spoil_value(tmp_path / "in", table, row, column, value)
    _refused(any_store, tmp_path / "in", reason)


@pytest.mark.parametrize("spoil", [truncated_gzip, symlink_loop, parquet_struct_in_a_canonical_column],
                         ids=["truncated gzip", "symlink loop", "Parquet struct"])
def test_bad_files_on_both_engines(cli, tmp_path, any_store, spoil):
    cli("init")
    write_force(tmp_path / "in")
    spoil(tmp_path / "in")
    before = full_digest(any_store)
    result = cli("ingest", tmp_path / "in", expect=1)
    assert "Traceback" not in result.output and result.output.strip().startswith("error: ")
    assert full_digest(any_store) == before


def test_an_offset_is_converted_to_utc_never_dropped(cli, tmp_path, any_store):
    tables = copy.deepcopy(force())
    tables["overtime_claims"][0].update(occurred_at="2020-02-10T18:00:00+05:00", ends_at="2020-02-10T22:00:00Z",
                                        recorded_at="2020-02-11T08:30-0130")
    write_force(tmp_path / "in", tables)
    cli("init")
    cli("ingest", tmp_path / "in")
    from openeis.store import open_store

    store = open_store(any_store)
    try:
        row = store.query("SELECT occurred_at, ends_at, recorded_at FROM overtime_claims")[0]
    finally:
        store.close()
    assert [t.isoformat() for t in row] == ["2020-02-10T13:00:00", "2020-02-10T22:00:00", "2020-02-11T10:00:00"]


def test_a_time_zoned_parquet_timestamp_is_read_in_utc(cli, tmp_path):
    write_force(tmp_path / "in")
    rows = _rows(tmp_path / "in", "complaints")
    (tmp_path / "in" / "complaints.csv").unlink()
    columns = {k: pa.array([r[k] or None for r in rows], pa.string()) for k in rows[0] if k != "occurred_at"}
    from datetime import datetime, timedelta, timezone

    zone = timezone(timedelta(hours=5))
    columns["occurred_at"] = pa.array([datetime(2020, 1, 1, 6, 45, tzinfo=zone), datetime(2021, 1, 10, tzinfo=zone)],
                                      pa.timestamp("us", tz="+05:00"))
    pq.write_table(pa.table(columns), tmp_path / "in" / "complaints.parquet")
    cli("init")
    cli("ingest", tmp_path / "in")
    from openeis.store import open_store

    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        assert sorted(t.isoformat() for (t,) in store.query("SELECT occurred_at FROM complaints")) == \
            ["2020-01-01T01:45:00", "2021-01-09T19:00:00"]
    finally:
        store.close()


def test_the_configured_span_of_dates_applies(cli, tmp_path):
    """[ingest] earliest_date and latest_date: a force's history before 1900 can be let in."""
    tables = copy.deepcopy(force())
    tables["complaints"][0]["occurred_at"] = "1890-05-05"
    write_force(tmp_path / "in", tables)
    cli("init")
    assert "outside 1900-01-01 to 2100-12-31" in cli("ingest", tmp_path / "in", expect=1).output
    (tmp_path / "openeis.toml").write_text('[ingest]\nearliest_date = 1850-01-01\nlatest_date = 2030-12-31\n')
    cli("ingest", tmp_path / "in")
    bad = (tmp_path / "openeis.toml")
    bad.write_text('[ingest]\nearliest_date = 2030-01-01\nlatest_date = 2020-01-01\n')
    assert "latest_date must be after earliest_date" in cli("status", expect=1).output


def test_a_markup_header_is_committed_and_reported_with_exit_0(cli, tmp_path, any_store):
    """Item 5: an extra header column `[/bold]` committed the batch, then the summary crashed
    (Rich markup) with exit code 1. Now it is printed as it is, and exit 0 means committed."""
    write_force(tmp_path / "in")
    path = tmp_path / "in" / "units.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",[/bold]"] + [line + ",x" for line in lines[1:]]) + "\n")
    cli("init")
    result = cli("ingest", tmp_path / "in")
    assert "units.csv: columns not in the data model, not stored: [/bold]" in result.output
    assert "inserted" in result.output


def test_markup_in_values_and_names_is_never_interpreted(cli, tmp_path):
    """Values, file and column names reach the terminal as text wherever the CLI prints them."""
    tables = copy.deepcopy(force())
    tables["units"][0]["unit_id"] = "[bold red]RESP1[/]"
    for officer in tables["officers"] + tables["postings"] + tables["duty_periods"]:
        if officer.get("unit_id") == "RESP1":
            officer["unit_id"] = "[bold red]RESP1[/]"
    tables["units"][1]["function"] = "[link=http://x.example]x[/link]"
    write_force(tmp_path / "in", tables)
    (tmp_path / "in" / "[red]notes.csv").write_text("x\n")
    cli("init")
    result = cli("ingest", tmp_path / "in", expect=1)
    assert "value '[link=http://x.example]x[/link]': unknown code" in result.output
    tables["units"][1]["function"] = "back_office"
    write_force(tmp_path / "in", tables)
    result = cli("ingest", tmp_path / "in")
    assert "files ignored (not named after a table): [red]notes.csv" in result.output


# -- what goes into the identity vault (issue 20): staff numbers, and names when kept ----------

def _new_officer(tables: dict, **values) -> None:
    tables["officers"].append({**tables["officers"][0], "officer_id": "WX100099", **values})


VAULT_INPUTS = {
    "staff number too long to seal": (lambda t: _new_officer(t, officer_id="WX" + "9" * 298),
                                      "officers.csv:5: column officer_id", "longer than 200 bytes"),
    "NUL byte in a name": (lambda t: _new_officer(t, first_name="Tav\x00rin"),
                           "officers.csv:5: column first_name", "control character"),
    "escape sequence in a name": (lambda t: t["officers"][1].update(last_name="\x1b[2Jgone"),
                                  "officers.csv:3: column last_name", "control character"),
    "name too long to seal": (lambda t: _new_officer(t, last_name="Oskelby" * 40),
                              "officers.csv:5: column last_name", "longer than 200 bytes"),
}


@pytest.mark.parametrize("kind", list(VAULT_INPUTS))
def test_what_goes_into_the_identity_vault_is_checked_where_it_is(template, tmp_path, kind):
    """Names are sealed only when the force keeps them (`vault_names`), from columns the rest of
    the ingest never reads: they get the same checks as every canonical value."""
    spoil, where, reason = VAULT_INPUTS[kind]
    url = _copy_store(template, tmp_path)
    tables = copy.deepcopy(force())
    spoil(tables)
    write_force(tmp_path / "in", tables)
    (tmp_path / "openeis.toml").write_text("[privacy]\nvault_names = true\n")
    before = full_digest(url)
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "in"), "--store", url, "--config",
                                      str(tmp_path / "openeis.toml")], env={"OPENEIS_KEY_FILE": None})
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert where in result.output and reason in result.output and "nothing was written" in result.output
    assert "\x1b" not in result.output and "\x00" not in result.output
    assert full_digest(url) == before
