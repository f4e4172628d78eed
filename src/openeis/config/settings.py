"""The whole configuration (OpenEISConfig) and its file: TOML or YAML, validated with Pydantic.

Every option has a default and a description; `openeis config docs` prints them and
docs/config.md is generated from this module (a test keeps the two equal).

Where the file is found: `--config PATH`, else the OPENEIS_CONFIG environment variable,
else ./openeis.toml if it exists, else the defaults.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from openeis.config.audit import AuditConfig
from openeis.config.detectors import DetectorsConfig
from openeis.config.features import FeaturesConfig, LabelsConfig, SplitsConfig
from openeis.config.models import FlagsConfig, ModelsConfig, RulesConfig
from openeis.config.queue import QueueConfig
from openeis.config.retention import RetentionRule, default_rules
from openeis.config.transparency import TransparencyConfig


class Section(BaseModel):
    # Unknown keys are errors: a misspelt option must not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class IngestConfig(Section):
    on_error: str = Field(
        "atomic",
        pattern="^(atomic|quarantine)$",
        description="What a batch with bad rows does: `atomic` writes nothing and exits "
        "non-zero; `quarantine` writes the good rows and puts the bad ones in the quarantine "
        "table. The --quarantine flag overrides it for one run.",
    )
    max_errors_shown: int = Field(
        50,
        ge=1,
        description="How many bad rows the CLI prints (all are counted, and all are in the "
        "--errors-json report).",
    )
    memory_limit: str | None = Field(
        "2GB",
        pattern=r"^\d+(\.\d+)?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB memory limit while ingesting (the embedded store, or the in-process "
        "workspace of a server store): a batch's staged rows wait for the all-or-nothing write, and "
        "beyond the limit DuckDB spills them, pseudonymised, to its temporary directory (a 35k-officer force: peak 4.0 GiB at 2GB, 5.1 GiB unlimited, 3.2 GiB at 1GB; docs/benchmarks.md).",
    )
    earliest_date: date = Field(
        date(1900, 1, 1),
        description="The earliest date a record may carry (any date or time column, and "
        "birth_year): earlier ones are refused as implausible (typing errors such as 0215 for "
        "2015, or a placeholder date). Records of a force's history before it need it lowered.",
    )
    latest_date: date = Field(
        date(2100, 12, 31),
        description="The latest date a record may carry: later ones are refused as implausible "
        "(e.g. 9999-12-31 as 'no end'; leave an end empty instead).",
    )

    @model_validator(mode="after")
    def _span(self) -> IngestConfig:
        if self.latest_date <= self.earliest_date:
            raise ValueError("latest_date must be after earliest_date")
        return self


class PrivacyConfig(Section):
    key_file: str | None = Field(
        None,
        description="Pseudonymisation key file. Default: beside the store file, with the "
        "suffix .key (openeis.duckdb -> openeis.key). The --key-file flag overrides it.",
    )
    log_anchor_file: str | None = Field(
        None,
        description="Where the access log's anchor is kept: the newest entry of each store's "
        "log, signed with its key, outside the store, so that `openeis log verify` detects a "
        "wiped or rolled-back log (docs/governance.md). Default: beside the key file, with the "
        "suffix .anchor (openeis.key -> openeis.anchor). Every process that writes to the store "
        "should use the same file (one host: web workers and commands alike).",
    )
    vault_key_file: str | None = Field(
        None,
        description="Identity vault key file (the key that encrypts staff numbers and names, held "
        "apart from the pseudonymisation key). Default: beside the store, with the suffix .vault.key "
        "(openeis.duckdb -> openeis.vault.key); keep it elsewhere in production. The "
        "--vault-key-file flag overrides it.",
    )
    vault_names: bool = Field(
        False,
        description="Also keep the officer's name (the officers file's name columns) in the identity "
        "vault, encrypted, for `openeis reveal`. Default: the staff number only.",
    )


class SignInConfig(Section):
    """Throttling of the web application's sign-in form against password guessing."""

    max_failures_per_account: int = Field(
        5,
        ge=1,
        description="Failed sign-ins under one name within `window_minutes` after which that name "
        "is locked (even the right password is refused) until the oldest of them is older than "
        "the window. Counted for names no account has too, so a lockout tells nobody whether a "
        "name exists.",
    )
    max_failures_per_address: int = Field(
        20,
        ge=1,
        description="Failed sign-ins from one client address within `window_minutes` after which "
        "every sign-in from it is refused (password spraying across many names).",
    )
    window_minutes: int = Field(15, ge=1, le=24 * 60, description="The window failures are counted in.")
    address_header: str | None = Field(
        None,
        description="Behind a reverse proxy: the request header holding the client's address "
        "(e.g. X-Forwarded-For; its first address is used). Only set it when the proxy "
        "overwrites that header, or anyone could pick their own address. Default: the "
        "connection's address.",
    )


class RetentionConfig(Section):
    rules: list[RetentionRule] = Field(
        default_factory=default_rules,
        description="Per-table retention rules, applied by `openeis retention apply`. Defaults: "
        "allegations not upheld 6 years after the decision; complainants 3 years after the case "
        "closed; sickness 6 years after it ended; IT look-ups 2 years; overtime claims 6 years. "
        "In TOML: [[retention.rules]] table = ..., years = ..., after = ..., only_if = {...}.",
    )


class OpenEISConfig(Section):
    """The whole configuration."""

    force_name: str = Field("Synthetic Constabulary", description="Name shown on reports.")
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    labels: LabelsConfig = Field(default_factory=LabelsConfig)
    splits: SplitsConfig = Field(default_factory=SplitsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    sign_in: SignInConfig = Field(default_factory=SignInConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    flags: FlagsConfig = Field(default_factory=FlagsConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    transparency: TransparencyConfig = Field(default_factory=TransparencyConfig)
    detectors: DetectorsConfig = Field(default_factory=DetectorsConfig)


class ConfigFileError(Exception):
    pass


def find_config_path(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("OPENEIS_CONFIG")
    if from_env:
        return Path(from_env)
    local = Path("openeis.toml")
    return local if local.exists() else None


def load_config(explicit: str | None = None) -> OpenEISConfig:
    path = find_config_path(explicit)
    if path is None:
        return OpenEISConfig()
    if not path.exists():
        raise ConfigFileError(f"config file {path} not found")
    text = path.read_text()
    try:
        if path.suffix in (".yaml", ".yml"):
            data: Any = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigFileError(f"{path}: not valid {path.suffix.lstrip('.')}: {error}") from None
    try:
        return OpenEISConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConfigFileError(f"{path}: {problems}") from None


def config_reference(model: type[BaseModel] = OpenEISConfig, prefix: str = "") -> list[str]:
    """Markdown lines documenting every option with its default."""
    lines: list[str] = []
    scalars = []
    sections = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sections.append((name, annotation))
        else:
            scalars.append((name, field))
    if scalars:
        lines.append(f"### [{prefix}]" if prefix else "### Top level")
        lines.append("")
        listed: list = []
        lines.append("| option | default | meaning |")
        lines.append("| --- | --- | --- |")
        for name, field in scalars:
            default = field.get_default(call_default_factory=True)
            if isinstance(default, list) and default and isinstance(default[0], BaseModel):
                shown = f"{len(default)} entries, listed below the table"
                listed.append((name, default))
            else:
                shown = "(none)" if default is None else f"`{default!r}`".replace("'", '"')
            lines.append(f"| `{name}` | {shown} | {field.description or ''} |")
        lines.append("")
        for name, entries in listed:
            lines.append(f"Default `{name}`:")
            lines.append("")
            for entry in entries:
                lines.append(f"- `{entry.model_dump_json()}`")
            lines.append("")
    for name, sub in sections:
        lines.extend(config_reference(sub, f"{prefix}.{name}" if prefix else name))
    return lines


def config_markdown() -> str:
    """docs/config.md, as `openeis config docs` prints it."""
    header = [
        "# Configuration reference",
        "",
        "Generated by `openeis config docs`; do not edit by hand (a test compares the two).",
        "OpenEIS reads `--config PATH`, else $OPENEIS_CONFIG, else ./openeis.toml if present,",
        "else these defaults. The file is TOML (or YAML for .yaml/.yml); unknown options are errors.",
        "",
    ]
    return "\n".join(header + config_reference()) + "\n"
