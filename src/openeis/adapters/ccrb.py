"""`--format ccrb FILE`: the NYC CCRB allegations file (ProPublica, July 2020).

Everything about the layout is in mappings/ccrb.yaml. This module adds only the summary
sentence the mapping cannot compute: counts of officers, complaints and upheld allegations,
with the selection-bias caveat (only officers with a substantiated allegation are in the file).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc

from openeis.adapters.engine import MappingResult
from openeis.adapters.mapped import ingest_mapped
from openeis.adapters.spec import load_mapping
from openeis.ingest.canonical import Identities, IngestReport, Progress
from openeis.ingest.problems import IngestFailed
from openeis.privacy import Pseudonymiser
from openeis.store import Store

MAPPING = Path(__file__).parent / "mappings" / "ccrb.yaml"


def summary_notes(result: MappingResult) -> list[str]:
    upheld = 0
    for item in result.inputs:
        if item.source.table.name == "allegations":
            upheld = int(pc.sum(pc.equal(item.data.column("finding"), "upheld").cast("int64")).as_py() or 0)
    allegations = result.rows.get("allegations", 0)
    share = f" ({upheld / allegations:.0%})" if allegations else ""
    return [
        f"CCRB summary: {result.rows.get('officers', 0):,} officers, {result.rows.get('complaints', 0):,} "
        f"complaints, {allegations:,} allegations of which {upheld:,}{share} upheld. Selection bias: every "
        "officer here is still serving in June 2020 and has at least one substantiated allegation, and "
        "unfounded allegations are not in the file, so this is not a sample of the NYPD."
    ]


def ingest_ccrb(
    store: Store,
    path: Path,
    pseudonymiser: Pseudonymiser,
    mapping: Path | None = None,
    quarantine: bool = False,
    progress: Progress | None = None,
    before_commit=None,
    limits=None,
    changed_at: datetime | None = None,
    identities: Identities | None = None,
) -> IngestReport:
    path = Path(path)
    if not path.exists():
        raise IngestFailed(f"{path}: no such file (expected the CCRB allegations CSV, .csv or .csv.gz)")
    spec = load_mapping(Path(mapping) if mapping else MAPPING)
    return ingest_mapped(
        store, path, pseudonymiser, spec, quarantine, progress, source_format="ccrb", extra_notes=summary_notes,
        before_commit=before_commit, limits=limits, changed_at=changed_at, identities=identities,
    )
