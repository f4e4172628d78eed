"""Commands that touch no personal data: version, init, config show|docs, synth, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis import __version__
from openeis.application.errors import Invalid, refusing
from openeis.application.session import create_store
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, KeyFileOption, StoreOption, VaultKeyFileOption,
                                command, console, progress_bar, settings)
from openeis.config import config_markdown


def register(app: typer.Typer) -> None:
    command(app)(version)
    command(app)(init)
    config_app = typer.Typer(help="The configuration file.", no_args_is_help=True)
    command(config_app, "show")(config_show)
    command(config_app, "docs")(config_docs)
    app.add_typer(config_app, name="config")
    command(app)(synth)
    command(app)(demo)


def version() -> None:
    """Print the OpenEIS version."""
    console.print(__version__)


def init(
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    vault_key_file: VaultKeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Create the store (schema by versioned migrations), its pseudonymisation key and its
    identity vault key."""
    from openeis.store.postgres_store import redacted

    created = create_store(store, settings(config), key_file, vault_key_file)
    console.print(f"store   {redacted(store)} (schema version {created.schema_version}, "
                  f"{created.migrations_applied} migration(s) applied)")
    console.print(f"key     {created.key_path} ({'created, mode 0600' if created.key_created else 'existing'}): keep it "
                  "apart from the store and back it up; without it pseudonyms cannot be reproduced")
    if created.vault_key_path:
        console.print(f"vault   {created.vault_key_path} (identity vault key, mode 0600): keep it apart from "
                      "both, where only the reveal service reads it; the store holds its public half")


def config_show(config: ConfigOption = None) -> None:
    """Print the effective configuration (file values over defaults) as JSON."""
    console.print_json(settings(config).model_dump_json())


def config_docs() -> None:
    """Print the reference of every option and its default (Markdown)."""
    print(config_markdown(), end="")


def synth(
    officers: Annotated[int, typer.Option(help="Headcount at any time.")] = 2000,
    years: Annotated[int, typer.Option(help="Years of records.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 1,
    out: Annotated[Path, typer.Option(help="Directory to write the canonical files to.")] = Path("synthetic-force"),
    bias: Annotated[
        Optional[list[str]],
        typer.Option(help="Injected bias, repeatable: e.g. upheld:group=B:1.5 or posting:group=B:high_exposure:2.0."),
    ] = None,
    start: Annotated[str, typer.Option(help="First day of the records (YYYY-MM-DD).")] = "2015-01-01",
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Write a deterministic synthetic force as canonical files, with ground truth beside them."""
    from openeis.synth import SynthOptions, generate_force, parse_bias

    with refusing(Invalid, ValueError):
        options = SynthOptions(
            officers=officers,
            years=years,
            seed=seed,
            start=start,
            biases=[parse_bias(spec) for spec in bias or []],
            file_format=file_format,
        )
    with progress_bar() as update:
        summary = generate_force(options, out, progress=update)
    table = RichTable(title=f"synthetic force in {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.items():
        if isinstance(count, int):
            table.add_row(name, str(count))
    console.print(table)
    console.print(f"ground truth (for tests, never ingested): {out / 'ground_truth'}")


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo writes everything.")] = Path("openeis-demo"),
    officers: Annotated[int, typer.Option(help="Headcount of the synthetic force.")] = 1500,
    years: Annotated[int, typer.Option(help="Years of records.")] = 6,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Run the whole pipeline that exists so far on a synthetic force, in an embedded store."""
    from openeis.demo import run_demo

    run_demo(directory, officers=officers, years=years, seed=seed, console=console)
