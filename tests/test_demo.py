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
    # Accounts to look at it in the browser: passwords in a file only the user can read.
    accounts = tmp_path / "demo" / "demo-accounts.txt"
    assert accounts.stat().st_mode & 0o077 == 0
    assert "openeis serve --store" in text
    from openeis.governance.users import check_password
    from openeis.store import open_store

    lines = [line.split("\t") for line in accounts.read_text().splitlines()[1:]]
    assert not [p for _, _, p in lines if p.removeprefix("password: ") in text]  # never on the console
    name, _, password = lines[0]
    store = open_store(str(result["store"]))
    try:
        assert check_password(store, name, password.removeprefix("password: ")) is not None
    finally:
        store.close()
    # Running it again replaces its own directory without complaint.
    run_demo(tmp_path / "demo", officers=120, years=2, seed=3, console=Console(file=StringIO()))
