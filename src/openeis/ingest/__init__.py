"""Ingestion: validated, pseudonymised, minimised, atomic and idempotent."""

from openeis.ingest.canonical import IngestReport, ingest_canonical
from openeis.ingest.problems import IngestFailed, Problem

__all__ = ["IngestFailed", "IngestReport", "Problem", "ingest_canonical"]
