"""Bias audit: group metrics with bootstrap intervals, disparities against a reference
group, label-bias and proxy checks, the promotion gate and the report.

    from openeis.audit import AuditConfig, build_audit_rows, run_audit, gate_decision

Names are imported lazily: openeis.config imports AuditConfig, and that must not pull in
fairlearn, scikit-learn or matplotlib.
"""

from __future__ import annotations

from importlib import import_module

_WHERE = {
    "AuditConfig": "config",
    "audit_rows": "rows", "build_audit_rows": "rows", "read_characteristics": "rows",
    "AuditResult": "run", "run_audit": "run",
    "proxy_check": "proxy",
    "GateDecision": "gate", "gate_decision": "gate",
    "audit_json": "report", "write_report": "report", "report_html": "report",
    "write_rows_csv": "report", "write_json": "report",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"openeis.audit.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'openeis.audit' has no attribute {name!r}")
