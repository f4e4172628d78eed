"""Integrity pattern detectors: overtime and duty, rostering, IT access, declarations and
attendance, each with a plain-English reason, the records behind it and the kind of prompt
it raises (integrity, welfare, performance).

    from openeis.detectors import run_detectors, write_flags

Names are imported lazily: openeis.config imports the config, and that must not pull in
scipy or pandas.
"""

from __future__ import annotations

from importlib import import_module

_WHERE = {
    "DetectorsConfig": "config",
    "run_detectors": "runner", "write_flags": "runner", "DetectorRun": "runner", "DETECTORS": "runner",
    "Hit": "hits",
    "audit_detectors": "fairness", "detector_audit_rows": "fairness",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"openeis.detectors.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'openeis.detectors' has no attribute {name!r}")
