"""`--format cpdp DIR`: the Chicago Citizens Police Data Project unified data.

Everything about the layout is in mappings/cpdp.yaml (the mapping language can say all of
it). This module only adds the one thing a mapping does not: a single sentence that names the
data set's known quirks in its own words, with their counts, at the top of the notes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from openeis import thread_pools
from openeis.adapters.engine import MappingResult
from openeis.adapters.mapped import ingest_mapped
from openeis.adapters.spec import load_mapping
from openeis.ingest.canonical import Identities, IngestReport, Progress
from openeis.ingest.problems import IngestFailed
from openeis.privacy import Pseudonymiser
from openeis.store import Store

MAPPING = Path(__file__).parent / "mappings" / "cpdp.yaml"


def _before(result: MappingResult, table: str, later: str, earlier: str) -> int:
    """Rows of a built table whose `later` date is before its `earlier` one."""
    for item in result.inputs:
        if item.source.table.name == table:
            con = duckdb.connect(":memory:", config=thread_pools.duckdb_config())
            try:
                con.register("built", item.data)
                return int(con.execute(
                    f"SELECT count(*) FROM built WHERE TRY_CAST({later} AS TIMESTAMP) < TRY_CAST({earlier} AS TIMESTAMP)"
                ).fetchall()[0][0])
            finally:
                con.close()
    return 0


def _dropped(result: MappingResult, table: str, words: str) -> int:
    return sum(n for reason, n in result.dropped.get(table, {}).items() if words in reason)


def quirk_notes(result: MappingResult) -> list[str]:
    incident_after = _before(result, "complaints", "recorded_at", "occurred_at")
    closed_before = _before(result, "complaints", "decided_at", "recorded_at")
    no_uid = _dropped(result, "use_of_force", "no officer UID")
    orphan = {t: _dropped(result, t, "not in officers") for t in ("allegations", "postings", "use_of_force")}
    beats = result.stats.get("complaints.area", {})
    return [
        "CPDP quirks (counted, none dropped silently): "
        f"{incident_after:,} complaints with incident_date after complaint_date and "
        f"{closed_before:,} closed before filed (closed_date before complaint_date), both kept as given; "
        f"{no_uid:,} TRR rows with no officer UID, and UIDs not in the roster on "
        f"{orphan['allegations']:,} accused rows, {orphan['postings']:,} unit-history rows and "
        f"{orphan['use_of_force']:,} TRR rows, not loaded; beat codes in "
        f"{beats.get('formats', 0):,} formats ({beats.get('rewritten', 0):,} rewritten to 4 digits, "
        f"{beats.get('blanked', 0):,} unreadable or 0000 left empty)."
    ]


def ingest_cpdp(
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
    if not Path(path).is_dir():
        raise IngestFailed(f"{path}: --format cpdp expects the directory of the CPDP unified data files")
    spec = load_mapping(Path(mapping) if mapping else MAPPING)
    return ingest_mapped(
        store, path, pseudonymiser, spec, quarantine, progress, source_format="cpdp", extra_notes=quirk_notes,
        before_commit=before_commit, limits=limits, changed_at=changed_at, identities=identities,
    )
