"""Integrity pattern detectors: overtime and duty, rostering, IT access, declarations and
attendance, each with a plain-English reason, the records behind it and the kind of prompt
it raises (integrity, welfare, performance).

    from openeis.detectors import run_detectors, write_flags
"""

from openeis.config.detectors import DetectorsConfig
from openeis.detectors.fairness import audit_detectors, detector_audit_rows
from openeis.detectors.hits import Hit
from openeis.detectors.runner import DETECTORS, DetectorRun, run_detectors, write_flags

__all__ = ["DETECTORS", "DetectorRun", "DetectorsConfig", "Hit", "audit_detectors", "detector_audit_rows",
           "run_detectors", "write_flags"]
