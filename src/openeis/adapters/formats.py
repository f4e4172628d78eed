"""The formats an adapter reads (cpdp, ccrb, mapped) and the one entry point to ingest any of them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openeis.adapters.mapped import ingest_mapped
from openeis.ingest.canonical import Identities, IngestReport, Progress
from openeis.ingest.problems import IngestFailed
from openeis.privacy import Pseudonymiser
from openeis.store import Store

FORMATS = ("cpdp", "ccrb", "mapped")
MAPPINGS_DIR = Path(__file__).parent / "mappings"


def builtin_mapping(name: str) -> Path:
    """Path of a mapping shipped with OpenEIS (cpdp, ccrb)."""
    return MAPPINGS_DIR / f"{name}.yaml"


def ingest_format(
    store: Store,
    path: Path,
    pseudonymiser: Pseudonymiser,
    format: str,
    mapping: Path | None = None,
    quarantine: bool = False,
    progress: Progress | None = None,
    before_commit=None,
    limits=None,
    changed_at: datetime | None = None,
    identities: Identities | None = None,
) -> IngestReport:
    """Ingest a force's exports in one of FORMATS; returns the report, with notes.
    `before_commit(report)` runs inside the write transaction (for the access log);
    `limits` the span of plausible dates (ingest.validate.ValueLimits); `changed_at`: when the
    force made the changes (ingest_tables); `identities` seals the mapped officers' source
    identifiers into the identity vault in the same transaction."""
    path = Path(path)
    if format == "cpdp":
        from openeis.adapters.cpdp import ingest_cpdp

        return ingest_cpdp(store, path, pseudonymiser, mapping, quarantine, progress, before_commit, limits=limits,
                           changed_at=changed_at, identities=identities)
    if format == "ccrb":
        from openeis.adapters.ccrb import ingest_ccrb

        return ingest_ccrb(store, path, pseudonymiser, mapping, quarantine, progress, before_commit, limits=limits,
                           changed_at=changed_at, identities=identities)
    if format == "mapped":
        if mapping is None:
            raise IngestFailed("--format mapped needs --mapping MAPPING.yaml (see docs/adapters.md)")
        return ingest_mapped(
            store, path, pseudonymiser, Path(mapping), quarantine, progress, source_format="mapped",
            before_commit=before_commit, limits=limits, changed_at=changed_at, identities=identities,
        )
    raise IngestFailed(f"unknown format {format!r}; known: canonical, {', '.join(FORMATS)}")

