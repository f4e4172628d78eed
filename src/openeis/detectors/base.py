"""What every detector receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from openeis.config.detectors import DetectorsConfig
from openeis.detectors.hits import Hit
from openeis.detectors.period import Period
from openeis.store import Store


@dataclass
class Context:
    store: Store
    period: Period
    config: DetectorsConfig

    def settings(self, name: str):
        return self.config.settings(name)


@dataclass
class Result:
    name: str
    method: str  # "rule" or "peer_fdr"
    tested: int  # officers examined
    hits: list[Hit]
    notes: dict = field(default_factory=dict)  # e.g. {"workload_cleared": n}

    def summary(self, prompt_kind: str) -> dict:
        return {"detector": self.name, "prompt_kind": prompt_kind, "method": self.method,
                "officers_tested": self.tested, "hits": len(self.hits), **self.notes}
