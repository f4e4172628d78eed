"""The Chicago CPDP adapter: a hand-made fixture in the real layout, and the real copy."""

from __future__ import annotations

import gzip
import shutil
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from support.commands import store_digest
from support.adapter_checks import assert_absent, new_store, pseudonymiser, shared_data

from openeis.adapters import ingest_format
from openeis.ingest.problems import IngestFailed

FIXTURE = Path(__file__).parent / "fixtures" / "cpdp"


@pytest.fixture
def cpdp_dir(tmp_path) -> Path:
    """The fixture, with some files gzipped as in the public release."""
    directory = tmp_path / "cpdp"
    shutil.copytree(FIXTURE, directory)
    for name in ("complaints-accused.csv", "TRR-main_2004-2016_2016-09.csv"):
        with open(directory / name, "rb") as source, gzip.open(directory / f"{name}.gz", "wb") as target:
            target.write(source.read())
        (directory / name).unlink()
    return directory


def ingest(tmp_path: Path, directory: Path, store_name: str = "store.duckdb"):
    store = new_store(tmp_path / store_name)
    try:
        report = ingest_format(store, directory, pseudonymiser(), format="cpdp")
        counts = {t.table: t.rows_read for t in report.tables}
        rows = {
            "findings": dict(store.query("SELECT finding, count(*) FROM allegations GROUP BY 1")),
            "open_dated": store.scalar("SELECT count(*) FROM allegations WHERE finding = 'open' AND decided_at IS NOT NULL"),
            "areas": sorted(a for (a,) in store.query("SELECT area FROM complaints WHERE area IS NOT NULL")),
            "force": sorted(f for (f,) in store.query("SELECT force_type FROM use_of_force")),
            "characteristics": store.scalar("SELECT count(*) FROM restricted.officer_characteristics"),
            "complainants": store.scalar("SELECT count(*) FROM restricted.complainants"),
            "left_at": store.scalar("SELECT count(*) FROM officers WHERE left_at IS NOT NULL"),
            "functions": dict(store.query("SELECT function, count(*) FROM units GROUP BY 1")),
        }
    finally:
        store.close()
    return report, counts, rows


def test_fixture_loads_every_table_and_counts_every_quirk(tmp_path, cpdp_dir):
    report, counts, rows = ingest(tmp_path, cpdp_dir)
    assert not report.errors
    assert counts == {
        "units": 5, "officers": 5, "postings": 5, "officer_characteristics": 5, "complaints": 6,
        "complainants": 3, "allegations": 9, "use_of_force": 3,
    }
    notes = "\n".join(report.notes)
    # Quirks, each counted in CPDP's own words.
    assert "1 complaints with incident_date after complaint_date and 1 closed before filed" in notes
    assert "1 TRR rows with no officer UID" in notes
    assert "UIDs not in the roster on 1 accused rows, 1 unit-history rows" in notes
    assert "beat codes in 5 formats (3 rewritten to 4 digits, 1 unreadable or 0000 left empty)" in notes
    # Every row not loaded is counted with its reason.
    assert "officers: 5 rows from final-profiles.csv (6 source rows); not loaded: 1 no joined_at" in notes
    assert "allegations: 9 rows from complaints-accused.csv.gz (10 source rows); not loaded: 1 UID not in officers" in notes
    assert "not loaded: 1 TRR rows with no officer UID" in notes
    # A decided finding with no closed_date is not given a made-up date: it stays open.
    assert "1 decided findings with no date (complaints.closed_date empty) loaded as open" in notes
    assert "1 rows open (no finding) although complaints.closed_date is set" in notes
    assert rows["open_dated"] == 0
    # Finding codes.
    assert "SU -> upheld 1" in notes and "NAF -> no_finding 1" in notes and "NC -> no_finding 1" in notes
    assert rows["findings"] == {
        "upheld": 1, "not_upheld": 1, "unfounded": 1, "exonerated": 1, "no_finding": 2, "open": 3
    }
    assert rows["areas"] == ["0171", "0421", "0421", "1011"]
    assert rows["force"] == ["firearm_discharged", "taser_discharged", "taser_drawn"]
    assert rows["left_at"] == 1  # the resignation before appointment was left empty
    assert rows["functions"] == {"response": 1, "investigation": 1, "roads": 1, "back_office": 1, "other": 1}


def test_dates_and_times_survive(tmp_path, cpdp_dir):
    store = new_store(tmp_path / "s.duckdb")
    try:
        ingest_format(store, cpdp_dir, pseudonymiser(), format="cpdp")
        upheld = store.query(
            "SELECT CAST(occurred_at AS DATE), CAST(recorded_at AS DATE), CAST(decided_at AS DATE) "
            "FROM allegations WHERE finding = 'upheld'"
        )
        trr = store.query("SELECT occurred_at FROM use_of_force WHERE force_type = 'firearm_discharged'")
    finally:
        store.close()
    assert [tuple(str(d) for d in row) for row in upheld] == [("2005-03-01", "2005-03-02", "2006-01-10")]
    assert str(trr[0][0]) == "2006-01-17 14:47:00"


def test_reingest_is_idempotent(tmp_path, cpdp_dir):
    store_path = tmp_path / "s.duckdb"
    store = new_store(store_path)
    try:
        ingest_format(store, cpdp_dir, pseudonymiser(), format="cpdp")
    finally:
        store.close()
    before = store_digest(store_path)
    store = new_store(store_path)
    try:
        again = ingest_format(store, cpdp_dir, pseudonymiser(), format="cpdp")
    finally:
        store.close()
    after = store_digest(store_path)
    assert again.total("inserted") == 0 and again.total("updated") == 0
    assert again.total("unchanged") == again.total("rows_read") > 0
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"ingest_batches", "ingest_files"}  # the batch and its files, nothing else


def test_names_and_raw_ids_never_reach_the_store(tmp_path, cpdp_dir):
    store_path = tmp_path / "s.duckdb"
    store = new_store(store_path)
    try:
        ingest_format(store, cpdp_dir, pseudonymiser(), format="cpdp")
    finally:
        store.close()
    names = {"TAVRIN", "OSKELBURY", "MIRELLE", "DUNHAVREK", "QUILLON", "BRASTOVARIK", "LORROWEN", "ORVANTHE",
             "MELQUIST", "VELMIRE", "QUORVANT"}
    ids = {"900001", "900002", "900003", "900004", "900006", "C7001", "7002", "C7003", "7004", "7005", "C7006",
           "5001", "5002", "5004"}
    assert_absent(store_path, ids, names)


def test_a_bad_row_is_reported_with_the_source_file_and_line(tmp_path, cpdp_dir):
    path = cpdp_dir / "complaints-complaints.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("2006-04-03", "2006-13-45")  # line 3 of the source file
    path.write_text("\n".join(lines) + "\n")
    store_path = tmp_path / "s.duckdb"
    store = new_store(store_path)
    try:
        with pytest.raises(IngestFailed) as failure:
            ingest_format(store, cpdp_dir, pseudonymiser(), format="cpdp")
        assert store.scalar("SELECT count(*) FROM complaints") == 0
    finally:
        store.close()
    located = {(p.file, p.line, p.column) for p in failure.value.problems}
    assert ("complaints-complaints.csv", 3, "recorded_at") in located
    assert any("CPDP quirks" in note for note in failure.value.notes)


def test_a_directory_is_required(tmp_path):
    store = new_store(tmp_path / "s.duckdb")
    try:
        with pytest.raises(IngestFailed, match="directory"):
            ingest_format(store, FIXTURE / "final-profiles.csv", pseudonymiser(), format="cpdp")
        with pytest.raises(IngestFailed, match="no file for source 'profiles'"):
            ingest_format(store, tmp_path, pseudonymiser(), format="cpdp")
    finally:
        store.close()


# -- the real Chicago copy -------------------------------------------------------------------


def _sample(path: Path, columns: list[str], every: int = 97) -> dict[str, set[str]]:
    data = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        include_columns=columns, column_types={c: "string" for c in columns}))
    found: dict[str, set[str]] = {}
    for column in columns:
        values = data.column(column).to_pylist()[::every]
        found[column] = {v for v in values if v}
    return found


@pytest.mark.realdata
@pytest.mark.slow
def test_real_chicago_copy(tmp_path):
    source = shared_data("chicago_cpdp")
    store_path = tmp_path / "chicago.duckdb"
    store = new_store(store_path)
    started = time.perf_counter()
    try:
        report = ingest_format(store, source, pseudonymiser(), format="cpdp")
    finally:
        store.close()
    seconds = time.perf_counter() - started
    print(f"CPDP ingest: {seconds:.1f} s")
    counts = {t.table: t.inserted for t in report.tables}
    assert not report.errors
    assert counts["officers"] > 29_000 and counts["allegations"] > 200_000 and counts["complaints"] > 150_000
    assert counts["postings"] > 90_000 and counts["use_of_force"] > 35_000 and counts["units"] > 150
    notes = "\n".join(report.notes)
    assert "CPDP quirks" in notes and "incident_date after complaint_date" in notes
    assert "TRR rows with no officer UID" in notes
    # Names and raw identifiers from the input are nowhere in the store.
    profiles = _sample(source / "final-profiles.csv.gz", ["UID", "first_name", "last_name"], every=151)
    complaints = _sample(source / "complaints-complaints.csv.gz", ["cr_id", "add2"], every=499)
    # Words that are legitimately stored (unit names, codes) are not evidence of a leak.
    store = new_store(store_path)
    try:
        stored_words = " ".join(
            v for (v,) in store.query("SELECT unit_name FROM units UNION SELECT ethnicity FROM "
                                      "restricted.officer_characteristics UNION SELECT gender FROM "
                                      "restricted.complainants") if v
        ).upper()
    finally:
        store.close()
    names = {
        n for n in profiles["first_name"] | profiles["last_name"] | complaints["add2"]
        if len(n) >= 6 and n.isalpha() and n.upper() not in stored_words
    }
    ids = profiles["UID"] | complaints["cr_id"]
    assert len(names) > 30 and len(ids) > 200
    assert_absent(store_path, ids, names)


def test_subject_injury_comes_from_trr_subjects_when_present(tmp_path, cpdp_dir):
    """The full release has TRR-subjects (the cut copy does not): subject injury is read from it
    when present (any injured subject of the report), and left unknown when absent."""
    def injured(store_name: str) -> tuple[dict, str]:
        store = new_store(tmp_path / store_name)
        try:
            report = ingest_format(store, cpdp_dir, pseudonymiser(), format="cpdp")
            rows = dict(store.query(
                "SELECT force_type, subject_injured FROM use_of_force ORDER BY force_type"))
        finally:
            store.close()
        return rows, "\n".join(report.notes)

    rows, notes = injured("without.duckdb")
    assert rows == {"firearm_discharged": None, "taser_discharged": None, "taser_drawn": None}
    assert "Source trr_subjects (TRR-subjects_*.csv) is optional and was not found" in notes

    # Made-up subjects in the release's layout: report 5001 (the firearm) has two subjects, one
    # injured; 5002 (taser drawn) one, not injured; 5004 (taser discharged) has no subject row.
    (cpdp_dir / "TRR-subjects_2004-2016_2016-09.csv").write_text(
        "trr_id,subject_ID,gender,race,age,birth_year,armed,injured,alleged_injury,trr_date\n"
        "5001,1,MALE,,31,1975,Yes,No,No,2006-01-17\n"
        "5001,2,MALE,,27,1979,No,Yes,Yes,2006-01-17\n"
        "5002,3,FEMALE,,40,1967,No,No,No,2007-03-02\n"
    )
    rows, notes = injured("with.duckdb")
    assert rows == {"firearm_discharged": True, "taser_drawn": False, "taser_discharged": None}
    assert "optional and was not found" not in notes
