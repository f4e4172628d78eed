"""`openeis score --features FILE`: scoring from a feature file built earlier gives the same
scores and flags as building the date's features, and a stale or wrong file is refused."""

from __future__ import annotations

import json
import os
import time

from support.models import FAST_MODELS

from openeis.store import open_store


def test_scoring_from_a_feature_file_is_the_same_and_stale_files_are_refused(cli, tmp_path):
    cli("synth", "--officers", 300, "--years", 6, "--seed", 5, "--out", "force", "--format", "parquet")
    cli("init")
    cli("ingest", "force")
    (tmp_path / "openeis.toml").write_text(FAST_MODELS)
    cli("train")
    cli("features", "--as-of", "2020-01-01,2020-06-01", "--out", "nightly.parquet")

    built = json.loads(cli("score", "--as-of", "2020-06-01", "--json").stdout)
    from_file = json.loads(cli("score", "--as-of", "2020-06-01", "--json", "--features", "nightly.parquet").stdout)
    assert from_file["flags"] == built["flags"] and from_file["cohort"] == built["cohort"] > 0
    store = open_store(str(tmp_path / "openeis.duckdb"))
    try:
        logged = json.loads(store.scalar("SELECT records FROM access_log WHERE purpose = 'score and flag' "
                                         "ORDER BY seq DESC LIMIT 1"))
    finally:
        store.close()
    assert logged["features_file"] == "nightly.parquet"

    missing_date = cli("score", "--as-of", "2020-03-01", "--features", "nightly.parquet", expect=1)
    assert "no rows as of 2020-03-01" in missing_date.output
    # an ingest after the file was written: its features no longer show what the store holds
    past = time.time() - 3600
    os.utime(tmp_path / "nightly.parquet", (past, past))
    cli("ingest", "force")
    stale = cli("score", "--as-of", "2020-06-01", "--features", "nightly.parquet", expect=1)
    assert "before the store's last ingest" in stale.output
