"""Bias audit: group metrics with bootstrap intervals, disparities against a reference
group, label-bias and proxy checks, the promotion gate and the report.

    from openeis.audit import AuditConfig, build_audit_rows, run_audit, gate_decision

A library on plain rows (no store access except reading the characteristics): the model
code's backtests and gate job, and the detectors' fairness check, call it.
"""

from openeis.audit.gate import GateDecision, gate_decision
from openeis.audit.proxy import proxy_check
from openeis.audit.report import audit_json, report_html, write_json, write_report, write_rows_csv
from openeis.audit.rows import audit_rows, build_audit_rows, read_characteristics
from openeis.audit.run import AuditResult, run_audit
from openeis.config.audit import AuditConfig

__all__ = [
    "AuditConfig", "AuditResult", "GateDecision", "audit_json", "audit_rows", "build_audit_rows",
    "gate_decision", "proxy_check", "read_characteristics", "report_html", "run_audit", "write_json",
    "write_report", "write_rows_csv",
]
