"""`openeis features`, `openeis labels` and `openeis splits` from the command line (on DuckDB
and PostgreSQL: `any_store`)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from support.handmade import write_force


def test_features_command_writes_officer_as_of_rows(cli, tmp_path, any_store):
    write_force(tmp_path / "force")
    cli("init")
    cli("ingest", "force")
    result = cli("features", "--as-of", "2020-01-01,2020-07-01:2021-01-01:6m", "--out", "out/f.parquet")
    assert "features" in result.output
    table = pq.read_table(tmp_path / "out" / "f.parquet")
    assert table.column_names[:2] == ["officer", "as_of"]
    assert len(table.column_names) > 150
    dates = sorted({d.date().isoformat() for d in table.column("as_of").to_pylist()})
    assert dates == ["2020-01-01", "2020-07-01", "2021-01-01"]
    # officer WX100003 left on 2021-02-01, the others serve: 3 officers on every date
    assert table.num_rows == 9
    officers = set(table.column("officer").to_pylist())
    assert len(officers) == 3 and not officers & {"WX100001", "WX100002", "WX100003"}  # pseudonyms


def test_labels_and_splits_commands(cli, tmp_path, any_store):
    write_force(tmp_path / "force")
    cli("init")
    cli("ingest", "force")
    cli("labels", "--as-of", "2019-06-01,2020-01-01", "--out", "l.parquet", "--label", "sustained_12m",
        "--known-at", "2020-05-01")
    table = pq.read_table(tmp_path / "l.parquet")
    assert table.column_names == ["officer", "as_of", "sustained_12m"]
    assert sum(table.column("sustained_12m").to_pylist()) == 0  # the finding came on 2020-06-01
    cli("labels", "--as-of", "2019-06-01,2020-01-01", "--out", "l.parquet", "--label", "sustained_12m")
    assert sum(pq.read_table(tmp_path / "l.parquet").column("sustained_12m").to_pylist()) == 2
    # the default plan is derived from the test dates and the store's records: the upheld
    # finding took 5 months (2020-01-05 to 2020-06-01), so a date is trained on once its window
    # closed 12 months (one yearly step) before the test date; allegations begin in January
    # 2020, so training dates begin a year later
    plan = json.loads(cli("splits", "--as-of", "2024-01-01", "--json").output)
    assert plan == [{"test_date": "2024-01-01", "train_dates": ["2021-01-01", "2022-01-01"],
                     "train_labels_known_at": "2024-01-01", "label_maturity_months": 12}]
    assert "openeis splits --as-of" in cli("splits", expect=1).output


def test_user_errors_are_refused(cli, tmp_path):
    cli("init")
    assert "not a date" in cli("features", "--as-of", "2020-13-01", "--out", "f.parquet", expect=1).output
    assert ".parquet" in cli("features", "--as-of", "2020-01-01", "--out", "f.csv", expect=1).output
    (tmp_path / "openeis.toml").write_text(
        '[features]\naggregations = [{name = "x", source = "allegations", where = "ethnicity = 1"}]\n')
    result = cli("features", "--as-of", "2020-01-01", "--out", "f.parquet", expect=1)
    assert "ethnicity" in result.output
    assert "does not exist" in cli("features", "--as-of", "2020-01-01", "--out", "f.parquet",
                                   "--store", "nope.duckdb", expect=1).output
