"""`--format mapped`: any force's CSV exports, described by a mapping file (docs/adapters.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openeis.adapters.engine import MappingResult, run_mapping
from openeis.adapters.spec import Mapping, load_mapping
from openeis.ingest.canonical import Identities, IngestReport, Progress, ingest_tables
from openeis.ingest.problems import IngestFailed
from openeis.privacy import Pseudonymiser
from openeis.store import Store


def ingest_mapped(
    store: Store,
    path: Path,
    pseudonymiser: Pseudonymiser,
    mapping: Path | Mapping,
    quarantine: bool = False,
    progress: Progress | None = None,
    source_format: str = "mapped",
    extra_notes=None,
    before_commit=None,
    limits=None,
    changed_at: datetime | None = None,
    identities: Identities | None = None,
) -> IngestReport:
    """Map the files at `path` (a directory, or the one file of a one-source mapping), then
    validate and write them like canonical input. Notes: the mapping's own caveats first,
    then every count of rows left out, values rewritten and codes mapped."""
    spec = mapping if isinstance(mapping, Mapping) else load_mapping(Path(mapping))
    result: MappingResult = run_mapping(spec, Path(path), progress)
    notes = list(spec.notes) + (extra_notes(result) if extra_notes else []) + result.notes
    try:
        report = ingest_tables(
            store,
            result.inputs,
            pseudonymiser,
            quarantine=quarantine,
            source=str(path),
            source_format=source_format,
            progress=progress,
            before_commit=before_commit,
            limits=limits, changed_at=changed_at,
            identities=identities,
        )
    except IngestFailed as error:
        error.notes = notes  # type: ignore[attr-defined]  # what the adapter counted, for the message
        raise
    report.notes.extend(notes)
    return report
