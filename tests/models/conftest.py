"""Fixtures of the model tests."""

from __future__ import annotations

import pytest

from support.models import FAST_MODELS


@pytest.fixture
def force_store(cli, tmp_path):
    cli("synth", "--officers", 500, "--years", 6, "--seed", 7, "--out", "force", "--format", "parquet")
    cli("init")
    cli("ingest", "force")
    (tmp_path / "openeis.toml").write_text(FAST_MODELS)
    return tmp_path
