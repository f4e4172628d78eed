"""The demo (the README's first command) runs end to end on a small force."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from openeis.demo import run_demo


def test_demo_runs_and_says_where_things_are(tmp_path):
    output = StringIO()
    result = run_demo(tmp_path / "demo", officers=120, years=2, seed=3, console=Console(file=output, width=120))
    text = output.getvalue()
    assert result["store"].exists() and result["key"].exists()
    assert "inserted 0, updated 0" in text  # the re-ingest changed nothing
    assert "access log intact" in text
    assert "never a verdict" in text
    # Running it again replaces its own directory without complaint.
    run_demo(tmp_path / "demo", officers=120, years=2, seed=3, console=Console(file=StringIO()))
