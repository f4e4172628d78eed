"""Fuzzing ingest (issue 21, "Done when"): at least 10,000 generated bad inputs go through
`openeis ingest`, and each is refused where it is. Hypothesis draws batches of 500 rows of a
canonical table, each row spoilt in one drawn column with one drawn bad value (impossible
dates, numbers beyond 64 bits or below zero, words for numbers, codes that are not codes,
references to nobody, missing required values, control characters inside any value). Every
batch must exit 1 with no traceback, name every spoilt row's line and column in the
--errors-json report, and leave the store as it was. By default 4 batches of each of the 6
tables, one test item per table so that xdist spreads them: 24 x 500 rows = 12,000 (about a
minute on one core in all); OPENEIS_FUZZ_BATCHES=N runs about N batches, with a new random
seed each run, for a longer hunt by hand.

A second test mutates the bytes of a CSV, gzip or Parquet file: whatever comes out must be
loaded (exit 0) or refused with a located message (exit 1, store unchanged), never a traceback.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from openeis.cli import app
from openeis.ingest.validate import FALSE_WORDS, TRUE_WORDS
from openeis.schema import TABLES_BY_NAME, ColumnType
from support.attacks import full_digest
from support.handmade import force, write_force

ROWS = 500
BATCHES = int(os.environ.get("OPENEIS_FUZZ_BATCHES", "20"))
# max_examples per table: one test item per table, for xdist to spread; no deadline (a batch
# takes about a second, more on a busy machine).
FUZZ = settings(max_examples=-(-BATCHES // 6), deadline=None, database=None,
                derandomize="OPENEIS_FUZZ_BATCHES" not in os.environ, suppress_health_check=list(HealthCheck))
# Tables whose rows nothing else refers to, so that each spoilt row stands alone.
FUZZED = ("duty_periods", "overtime_claims", "use_of_force", "absences", "training", "other_events")
LETTERS = st.text(alphabet=string.ascii_letters, min_size=1, max_size=10)
# Control characters inside a value (at the ends, whitespace ones are trimmed as blanks are):
# C0 but the carriage return (readers disagree on whether a lone one starts a line), DEL, C1.
CONTROLS = st.sampled_from([chr(c) for c in [*range(0, 13), *range(14, 32), 127, *range(128, 160)]])


def _date(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


VALID_DAY = st.builds(_date, st.integers(1950, 2050), st.integers(1, 12), st.integers(1, 28))
BAD_DATES = st.one_of(
    st.sampled_from(["infinity", "-infinity", "epoch", "now", "today", "NaN", "allballs", "yesterday"]),
    LETTERS,
    st.builds(lambda d, w: f"{d}T06:45:00 {w}", VALID_DAY, LETTERS),  # words after the time
    st.builds(lambda d, h: f"{d}T06:45:00+{h:02d}:00", VALID_DAY, st.integers(15, 99)),  # no such offset
    st.builds(_date, st.integers(1000, 1899), st.integers(1, 12), st.integers(1, 28)),  # before the span
    st.builds(_date, st.integers(2101, 9999), st.integers(1, 12), st.integers(1, 28)),  # after it
    st.builds(_date, st.integers(1950, 2050), st.integers(13, 99), st.integers(1, 28)),  # month 13+
    st.builds(_date, st.integers(1950, 2050), st.integers(1, 12), st.integers(32, 99)),  # day 32+
    st.builds(lambda d, t: f"{d}T{t}", VALID_DAY, st.sampled_from(["24:61", "99:00:00", "6:45:99", "T"])),
)
BEYOND_INT64 = st.one_of(st.integers(2**63, 2**90), st.integers(-(2**90), -(2**63) - 1)).map(str)
NOT_WHOLE = st.one_of(
    LETTERS,
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 10**6), st.integers(1, 9)),
    st.integers(1, 9).map(lambda n: f"{n}e3"),
    st.sampled_from(["0x10", "1_000", "١٢", "½", "--1", "+-1"]),
)
NOT_A_NUMBER = st.one_of(st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e999", "4,5", "1.2.3"]),
                         LETTERS.filter(lambda w: w.lower() not in ("e",)))
NEGATIVE = st.one_of(st.integers(-10**9, -1).map(str),
                     st.floats(-1e9, -1e-6, allow_nan=False, allow_infinity=False).map(repr))


def bad_values(column) -> st.SearchStrategy[str]:
    """Values that `column` must refuse, by its type and rules (never one it could accept)."""
    kinds: list[st.SearchStrategy[str]] = []
    if column.required:
        kinds.append(st.just(""))
    if column.references:
        kinds.append(LETTERS.map(lambda w: f"NOBODY-{w}"))
    if column.type is ColumnType.TIMESTAMP:
        kinds.append(BAD_DATES)
    elif column.type is ColumnType.INTEGER:
        kinds += [BEYOND_INT64, NOT_WHOLE]
    elif column.type is ColumnType.FLOAT:
        kinds.append(NOT_A_NUMBER)
    elif column.type is ColumnType.BOOLEAN:
        kinds.append(LETTERS.filter(lambda w: w.lower() not in TRUE_WORDS + FALSE_WORDS))
    if column.minimum is not None:
        kinds.append(NEGATIVE)
    if column.codes:
        kinds.append(LETTERS.filter(lambda w: w.lower() not in column.codes))
    return st.one_of(kinds) if kinds else st.nothing()


def with_control(value: str) -> st.SearchStrategy[str]:
    """The value with a control character inside it."""
    return st.builds(lambda at, c: value[:at] + c + value[at:], st.integers(1, max(1, len(value) - 1)), CONTROLS)


@st.composite
def spoilt_batch(draw, table_name: str) -> tuple[str, list[dict], list[str]]:
    """(table, rows, the column spoilt in each row)."""
    table = TABLES_BY_NAME[table_name]
    template = force()[table_name][0]
    columns = [c for c in table.columns if c.name != table.key and c.name in template
               and (not bad_values(c).is_empty or len(template[c.name] or "") >= 2)]
    rows, spoilt = [], []
    for number in range(ROWS):
        row = dict(template)
        row[table.key] = f"FZ-{number}"
        column = draw(st.sampled_from(columns))
        kinds = [] if bad_values(column).is_empty else [bad_values(column)]
        if len(row[column.name] or "") >= 2:
            kinds.append(with_control(row[column.name]))
        row[column.name] = draw(st.one_of(kinds))
        rows.append(row)
        spoilt.append(column.name)
    return table_name, rows, spoilt


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A DuckDB store holding the hand-made force, copied for each batch."""
    work = tmp_path_factory.mktemp("fuzz")
    write_force(work / "in")
    env = {"OPENEIS_STORE": str(work / "openeis.duckdb"), "OPENEIS_KEY_FILE": None, "OPENEIS_CONFIG": None}
    assert CliRunner().invoke(app, ["init"], env=env).exit_code == 0
    assert CliRunner().invoke(app, ["ingest", str(work / "in")], env=env).exit_code == 0
    return work


def _fresh_copy(template: Path) -> tuple[Path, str]:
    work = Path(tempfile.mkdtemp(prefix="fuzz-", dir=template))
    for name in ("openeis.duckdb", "openeis.key"):
        shutil.copy(template / name, work / name)
    os.chmod(work / "openeis.key", 0o600)
    return work, str(work / "openeis.duckdb")


def _ingest(url: str, directory: Path, errors: Path):
    return CliRunner().invoke(app, ["ingest", str(directory), "--store", url, "--errors-json", str(errors)],
                              env={"OPENEIS_KEY_FILE": None, "OPENEIS_CONFIG": None})


def _physical_lines(rows: list[dict]) -> list[int]:
    """Each record's first line: the header is line 1, and a line break inside a quoted value
    moves every later record down."""
    lines, line = [], 2
    for row in rows:
        lines.append(line)
        line += 1 + sum((value or "").count("\n") for value in row.values())
    return lines


@pytest.mark.parametrize("table_name", FUZZED)
@FUZZ
@given(data=st.data())
def test_every_generated_bad_value_is_refused_where_it_is(template, table_name, data):
    table_name, rows, spoilt = data.draw(spoilt_batch(table_name), label="batch")
    work, url = _fresh_copy(template)
    try:
        tables = copy.deepcopy(force())
        tables[table_name] = rows
        write_force(work / "in", tables)
        before = full_digest(url)
        result = _ingest(url, work / "in", work / "errors.json")
        assert result.exit_code == 1, result.output[-2000:]
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        assert "nothing was written" in result.stderr
        found = {(p["file"], p["line"], p["column"]) for p in json.loads((work / "errors.json").read_text())["errors"]}
        for line, column, row in zip(_physical_lines(rows), spoilt, rows):
            assert (f"{table_name}.csv", line, column) in found, (line, column, row[column])
        assert full_digest(url) == before
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- bytes: whatever a damaged file holds, a clear answer --------------------------------------

def _write_in_format(directory: Path, fmt: str) -> Path:
    write_force(directory, fmt=fmt)
    suffix = {"csv": ".csv", "csv.gz": ".csv.gz", "parquet": ".parquet"}[fmt]
    return directory / f"officers{suffix}"


@settings(max_examples=int(os.environ.get("OPENEIS_FUZZ_FILES", "40")), deadline=None, database=None,
          derandomize="OPENEIS_FUZZ_FILES" not in os.environ, suppress_health_check=list(HealthCheck))
@given(fmt=st.sampled_from(["csv", "csv.gz", "parquet"]), data=st.data())
def test_a_damaged_file_is_loaded_or_refused_clearly(template, fmt, data):
    work, url = _fresh_copy(template)
    try:
        path = _write_in_format(work / "in", fmt)
        content = bytearray(path.read_bytes())
        for _ in range(data.draw(st.integers(1, 8), label="damages")):
            at = data.draw(st.integers(0, max(0, len(content) - 1)), label="at")
            action = data.draw(st.sampled_from(["flip", "insert", "delete", "cut"]), label="action")
            if action == "flip" and content:
                content[at] ^= data.draw(st.integers(1, 255), label="bits")
            elif action == "insert":
                content[at:at] = data.draw(st.binary(min_size=1, max_size=64), label="bytes")
            elif action == "delete":
                del content[at:at + data.draw(st.integers(1, 64), label="length")]
            else:
                del content[at:]
        path.write_bytes(bytes(content))
        before = full_digest(url)
        result = _ingest(url, work / "in", work / "errors.json")
        assert result.exit_code in (0, 1), (result.exit_code, result.output[-2000:])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        if result.exit_code == 1:
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith("error: ") and (last[7:].startswith(path.name) or "problem(s)" in last), last
            assert full_digest(url) == before
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_batches_add_up_to_ten_thousand_bad_inputs():
    assert len(FUZZED) * FUZZ.max_examples * ROWS >= 10_000 or "OPENEIS_FUZZ_BATCHES" in os.environ

