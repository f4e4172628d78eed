"""Retention rules as the config file holds them ([[retention.rules]]), and the defaults.

Applying them (deleting what is due, rewriting the store) is openeis.governance.retention.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from openeis.schema import TABLES_BY_NAME


class RetentionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(description="Canonical table the rule applies to.")
    years: float = Field(gt=0, description="Keep this many years after the `after` time.")
    after: str = Field(
        "recorded_at",
        description="Time column the period runs from: a column of the table, or "
        "`complaint_closed` (complainants: their complaint's decided_at).",
    )
    only_if: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Only rows whose column holds one of these values, e.g. {finding = [...]}.",
    )
    reason: str = Field("", description="Why: the policy or law behind the rule.")

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        if value not in TABLES_BY_NAME:
            raise ValueError(f"unknown table {value!r}")
        return value

    def time_sql(self) -> str:
        if self.after == "complaint_closed":
            return "(SELECT c.decided_at FROM complaints c WHERE c.complaint_id = t.complaint_id)"
        if not TABLES_BY_NAME[self.table].has(self.after):
            raise ValueError(f"retention rule for {self.table}: no column {self.after!r}")
        return f"t.{self.after}"

    def where_sql(self, cutoff_param: str = "?") -> tuple[str, list]:
        table = TABLES_BY_NAME[self.table]
        conditions = [f"{self.time_sql()} < {cutoff_param}"]
        params: list = []
        for column, values in self.only_if.items():
            if not table.has(column):
                raise ValueError(f"retention rule for {self.table}: no column {column!r}")
            conditions.append(f"t.{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
        return " AND ".join(conditions), params


NOT_UPHELD = ["not_upheld", "unfounded", "exonerated", "no_finding", "withdrawn", "informal_resolution"]


def default_rules() -> list[RetentionRule]:
    """Defaults a data protection officer can start from; every force sets its own."""
    return [
        RetentionRule(table="allegations", years=6, after="decided_at", only_if={"finding": NOT_UPHELD},
                      reason="allegations not upheld: 6 years after the decision"),
        RetentionRule(table="complainants", years=3, after="complaint_closed",
                      reason="complainants' details: 3 years after the case closed"),
        RetentionRule(table="absences", years=6, after="ends_at", only_if={"kind": ["sickness"]},
                      reason="sickness records (health data): 6 years after the absence ended"),
        RetentionRule(table="system_access", years=2, after="occurred_at",
                      reason="IT look-up logs: 2 years"),
        RetentionRule(table="overtime_claims", years=6, after="decided_at",
                      reason="pay records: 6 years"),
    ]
