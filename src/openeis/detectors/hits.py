"""A detector hit: one officer, one detector, its reasons and the records behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from openeis.flags.store import Flag


@dataclass
class Hit:
    officer: str
    detector: str
    prompt_kind: str
    sentences: list[str]
    evidence: list[dict]  # [{"table": ..., "record": ...}], at most max_evidence
    evidence_total: int
    measures: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return " ".join(self.sentences)

    def as_dict(self) -> dict:
        return {"officer": self.officer, "detector": self.detector, "prompt_kind": self.prompt_kind,
                "reason": self.reason, "sentences": self.sentences, "evidence": self.evidence,
                "evidence_total": self.evidence_total, "measures": self.measures}

    def flag(self, as_of: date) -> Flag:
        explanation = {"sentences": self.sentences, "detector": self.detector,
                       "prompt_kind": self.prompt_kind, "evidence": self.evidence,
                       "evidence_total": self.evidence_total, "measures": self.measures}
        return Flag(as_of, self.officer, "detector", explanation, model_id=f"detector:{self.detector}",
                    queue="welfare" if self.prompt_kind == "welfare" else "conduct")


def evidence(records: list, table: str, limit: int) -> list[dict]:
    return [{"table": table, "record": r} for r in list(records)[:limit]]


def plural(n: int | float, word: str, many: str | None = None) -> str:
    n_text = f"{n:,}" if isinstance(n, int) else f"{n:,.2f}".rstrip("0").rstrip(".")
    return f"{n_text} {word if n == 1 else (many or word + 's')}"


def day(value) -> str:
    return value.strftime("%d %b %Y") if hasattr(value, "strftime") else str(value)
