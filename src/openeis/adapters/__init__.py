"""Adapters: a force's own exports -> canonical tables -> the same validated ingestion.

    from openeis.adapters import ingest_format
    report = ingest_format(store, path, pseudonymiser, format="cpdp", quarantine=False)

Formats: ``cpdp`` (Chicago CPDP unified data, a directory), ``ccrb`` (the NYC CCRB allegations
file), ``mapped`` (any force's CSV exports with a declarative mapping file). Every adapter is a
mapping (see ``mappings/*.yaml`` and docs/adapters.md) run by one engine, then handed to
``openeis.ingest.canonical.ingest_tables``: pseudonymisation, validation, atomicity and
idempotency are exactly those of canonical ingestion.
"""

from openeis.adapters.formats import FORMATS, builtin_mapping, ingest_format
from openeis.adapters.spec import Mapping, MappingError, load_mapping

__all__ = ["FORMATS", "Mapping", "MappingError", "builtin_mapping", "ingest_format", "load_mapping"]
