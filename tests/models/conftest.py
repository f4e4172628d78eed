"""Fixtures of the model tests."""

from __future__ import annotations

import shutil

import pytest

from support.models import FAST_MODELS
from support.replay import openeis


@pytest.fixture(scope="session")
def force_template(tmp_path_factory):
    """A 500-officer synthetic force, generated, initialised and ingested once per test
    process (about 4 s): `force_store` hands each test a copy of it."""
    root = tmp_path_factory.mktemp("force-template")
    store, key = root / "openeis.duckdb", root / "openeis.key"
    openeis("synth", "--officers", 500, "--years", 6, "--seed", 7, "--out", root / "force", "--format", "parquet")
    openeis("init", "--store", store, "--key-file", key)
    openeis("ingest", root / "force", "--store", store, "--key-file", key)
    return root


@pytest.fixture
def force_store(cli, tmp_path, force_template):
    """A store of its own for the test, in its working directory: a copy of the template's
    files (the store, its keys, its access-log anchor, the force's input files). A store
    copied elsewhere is anchored anew where it lands, as a restored backup would be."""
    shutil.copytree(force_template, tmp_path, dirs_exist_ok=True)
    (tmp_path / "openeis.toml").write_text(FAST_MODELS)
    return tmp_path
