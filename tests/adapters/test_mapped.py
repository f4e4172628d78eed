"""`--format mapped`: an invented force's own export layout, described by a YAML mapping."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from support.commands import store_digest
from support.adapter_checks import assert_absent, new_store, pseudonymiser

from openeis.adapters import MappingError, builtin_mapping, ingest_format, load_mapping
from openeis.ingest.problems import IngestFailed
from openeis.privacy import Pseudonymiser, read_key_file

FIXTURE = Path(__file__).parent / "fixtures" / "mapped"
MAPPING = FIXTURE / "velmire.yaml"


def run(tmp_path: Path, directory: Path = FIXTURE, mapping: Path = MAPPING, store_name: str = "s.duckdb"):
    store = new_store(tmp_path / store_name)
    try:
        return ingest_format(store, directory, pseudonymiser(), format="mapped", mapping=mapping)
    finally:
        store.close()


def test_a_force_export_maps_onto_the_canonical_model(tmp_path):
    report = run(tmp_path)
    counts = {t.table: t.inserted for t in report.tables}
    assert counts == {"units": 3, "officers": 3, "officer_characteristics": 3, "complaints": 4, "allegations": 4}
    store = new_store(tmp_path / "s.duckdb")
    try:
        officers = store.query("SELECT rank, CAST(joined_at AS DATE), CAST(left_at AS DATE) FROM officers ORDER BY 2")
        allegations = store.query(
            "SELECT category, finding, outcome, CAST(decided_at AS DATE) FROM allegations ORDER BY recorded_at, finding"
        )
        sources = dict(store.query("SELECT source, count(*) FROM complaints GROUP BY 1"))
    finally:
        store.close()
    assert [(r, str(joined), str(left)) for r, joined, left in officers] == [
        ("sergeant", "2005-09-15", "None"), ("constable", "2012-04-03", "None"), ("constable", "2016-10-01", "2021-03-31"),
    ]
    assert [(c, f, o, str(d)) for c, f, o, d in allegations] == [
        ("discourtesy", "not_upheld", None, "2019-06-30"),
        ("discourtesy", "upheld", "words_of_advice", "2019-06-30"),
        ("use_of_force", "open", None, "None"),
        ("information_misuse", "withdrawn", None, "2021-03-20"),
    ]
    assert sources == {"public": 3, "internal": 1}
    notes = "\n".join(report.notes)
    assert report.notes[0] == "Velmire: complaints before 2019 are not in this export."
    assert "officers: 3 rows from staff_list.csv (4 source rows); not loaded: 1 no joined_at (Start Date empty)" in notes
    assert "allegations: 4 rows from complaints_log.csv (5 source rows); not loaded: 1 Officer Payroll not in officers" in notes
    assert "Proven -> upheld 1" in notes
    # Free text used to derive a code is counted, never quoted in the notes.
    assert "Bellamira" not in notes and "sworn" not in notes


def test_reingest_is_idempotent(tmp_path):
    run(tmp_path)
    before = store_digest(tmp_path / "s.duckdb")
    again = run(tmp_path)
    after = store_digest(tmp_path / "s.duckdb")
    assert again.total("inserted") == 0 and again.total("updated") == 0
    assert {n for n in before if before[n] != after[n]} == {"ingest_batches", "ingest_files"}  # the batch, its files


def test_names_free_text_and_raw_ids_never_reach_the_store(tmp_path):
    run(tmp_path)
    names = {"Tamsin", "Orrowby", "Gideon", "Farrowdale", "Ysolde", "Penmarrick", "Corvin", "Astlethorpe",
             "Bellamira", "Quorne", "Haldor", "Wrenfield", "sworn"}
    ids = {"VC-0101", "VC-0102", "VC-0103", "VC-0109", "PSD/2019/001", "PSD/2020/014", "PSD/2021/002"}
    assert_absent(tmp_path / "s.duckdb", ids, names)


def test_a_changed_record_is_updated(tmp_path):
    directory = tmp_path / "export"
    shutil.copytree(FIXTURE, directory)
    run(tmp_path, directory, directory / "velmire.yaml")
    path = directory / "complaints_log.csv"
    path.write_text(path.read_text().replace("05/05/2020,01/05/2020,,Excessive Force,Ongoing",
                                             "05/05/2020,01/05/2020,01/09/2020,Excessive Force,Not Proven"))
    report = run(tmp_path, directory, directory / "velmire.yaml")
    updated = {t.table: t.updated for t in report.tables}
    assert updated["allegations"] == 1 and updated["complaints"] == 1


def test_an_unreadable_date_names_the_source_file_and_line(tmp_path):
    directory = tmp_path / "export"
    shutil.copytree(FIXTURE, directory)
    path = directory / "staff_list.csv"
    path.write_text(path.read_text().replace("15/09/2005", "31/02/2005"))
    with pytest.raises(IngestFailed) as failure:
        run(tmp_path, directory, directory / "velmire.yaml")
    located = {(p.file, p.line, p.column, p.value) for p in failure.value.problems}
    assert ("staff_list.csv", 3, "joined_at", "31/02/2005") in located


def write_mapping(tmp_path: Path, change) -> Path:
    document = yaml.safe_load(MAPPING.read_text())
    change(document)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    "change, where, message",
    [
        (lambda d: d.pop("openeis_mapping"), "openeis_mapping", "expected 1"),
        (lambda d: d["tables"].update(rosters={}), "tables.rosters", "unknown canonical table"),
        (lambda d: d["tables"]["officers"]["columns"].pop("rank"), "tables.officers.columns",
         "required column(s) of officers not mapped: rank"),
        (lambda d: d["tables"]["officers"]["columns"].update(grade="Grade"), "tables.officers.columns.grade",
         "officers has no column 'grade'"),
        (lambda d: d["tables"]["officers"].update({"from": "payroll"}), "tables.officers.from",
         "expected one of the sources"),
        (lambda d: d["tables"]["officers"]["columns"]["rank"].update(patterns=[["(", "x"]]),
         "tables.officers.columns.rank.patterns[0]", "not a valid regular expression"),
        (lambda d: d["tables"]["officers"]["columns"].update(joined_at={"column": "Start Date", "date_fmt": "%d"}),
         "tables.officers.columns.joined_at.date_fmt", "unknown key"),
        (lambda d: d["tables"]["officers"]["columns"].update(joined_at={"column": "Start Date", "transform": "trim2"}),
         "tables.officers.columns.joined_at.transform[0]", "unknown transform 'trim2'"),
        (lambda d: d["tables"]["officers"].update(orphans={"rank": "drop"}), "tables.officers.orphans.rank",
         "not a column that refers to another table"),
    ],
)
def test_the_mapping_itself_is_validated(tmp_path, change, where, message):
    path = write_mapping(tmp_path, change)
    with pytest.raises(MappingError) as failure:
        load_mapping(path)
    text = str(failure.value)
    assert text.startswith(f"{path}: {where}:"), text
    assert message in text


def test_a_source_column_that_does_not_exist_is_named(tmp_path):
    path = write_mapping(tmp_path, lambda d: d["tables"]["officers"]["columns"].update(rank="Rank"))
    with pytest.raises(MappingError) as failure:
        run(tmp_path, FIXTURE, path)
    assert f"{path}: tables.officers.columns.rank: column 'Rank' not in staff_list.csv" in str(failure.value)


def test_missing_files_and_bad_yaml_are_reported(tmp_path):
    with pytest.raises(IngestFailed, match="no file for source 'teams'"):
        empty = tmp_path / "empty"
        empty.mkdir()
        shutil.copy(FIXTURE / "staff_list.csv", empty)
        run(tmp_path, empty)
    bad = tmp_path / "bad.yaml"
    bad.write_text("openeis_mapping: 1\ntables: [\n")
    with pytest.raises(MappingError, match="not valid YAML"):
        run(tmp_path, FIXTURE, bad)
    with pytest.raises(IngestFailed, match="--mapping"):
        store = new_store(tmp_path / "x.duckdb")
        try:
            ingest_format(store, FIXTURE, pseudonymiser(), format="mapped")
        finally:
            store.close()


def test_the_shipped_mappings_are_valid():
    for name in ("cpdp", "ccrb"):
        mapping = load_mapping(builtin_mapping(name))
        assert mapping.tables


def test_mapped_officers_are_sealed_in_the_identity_vault(cli, tmp_path):
    """Adapters seal their officers' source identifiers (here the payroll number) as the
    canonical ingest does; the store holds only the seals, and a re-ingest adds none."""
    cli("init")
    cli("ingest", FIXTURE, "--format", "mapped", "--mapping", MAPPING)
    store = new_store(tmp_path / "openeis.duckdb")
    try:
        sealed = store.query("SELECT officer_id, staff_number FROM restricted.identity_vault ORDER BY 1")
        officers = sorted(r[0] for r in store.query("SELECT officer_id FROM officers"))
    finally:
        store.close()
    assert [officer for officer, _ in sealed] == officers and len(officers) == 3
    assert "VC-0101" not in str(sealed)
    cli("ingest", FIXTURE, "--format", "mapped", "--mapping", MAPPING)
    store = new_store(tmp_path / "openeis.duckdb")
    try:
        assert str(store.query("SELECT officer_id, staff_number FROM restricted.identity_vault ORDER BY 1")) == str(sealed)
    finally:
        store.close()
    officer = Pseudonymiser(read_key_file(tmp_path / "openeis.key")).pseudonym("officer", "VC-0101")
    revealed = cli("reveal", "--officer", officer, "--reason", "adapter test: entitled reveal", "--json").stdout
    assert '"VC-0101"' in revealed
