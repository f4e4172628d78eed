"""The review budget: which of a period's flags are queued for a human, and in what order.

One capacity per period is shared by every source of conduct prompts (model flags, rule
flags, integrity detector hits); the welfare queue (attendance and sickness prompts, for line
managers and occupational health) has a capacity of its own. The order, documented in
docs/web.md ("The review budget"):

1. work already started (in review or decided) keeps its place and counts against the budget;
2. each source fills its share of the capacity (`[queue]` model_share, detector_share,
   rule_share), in its own order: model flags by rank; detector hits that rest on records that
   contradict each other (rule-based detectors) before peer comparisons, those by their
   false-discovery q-value; rule flags by the live model's percentile, then the number of rules
   and how far over the threshold;
3. capacity a source leaves unused goes to the others, in the order model, detector, rule;
4. `unit_capacity`, if set, caps the items of one unit.

What does not fit is not queued: counted by source and listed for administrators. Model flags
of a model that is not live are never queued (only a live model publishes). Pure functions of
the period's flags: nothing here reads the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCES = ("model", "detector", "rule")


@dataclass
class Item:
    flag_id: str
    officer: str
    source: str
    queue: str  # conduct | welfare
    status: str
    unit: str | None
    model_id: str | None = None
    model_status: str | None = None  # the registry status of a model flag's model
    rank: int | None = None
    percentile: float | None = None
    strength: tuple = ()  # the order within its source: smaller first
    position: int | None = None  # place in the queue (1 = first), None when not queued
    extra: dict = field(default_factory=dict)


@dataclass
class Selection:
    capacity: int
    queued: list[Item]
    not_queued: list[Item]
    withdrawn: list[Item]  # new flags of a model that is not live: never queued

    def not_queued_counts(self) -> dict[str, int]:
        return {source: sum(i.source == source for i in self.not_queued) for source in SOURCES}


def detector_strength(measures: dict, method_rule: bool, detector: str, officer: str) -> tuple:
    """Record contradictions first, then peer comparisons by q-value (smaller: surer)."""
    q = measures.get("q")
    return (0 if method_rule or q is None else 1, float(q) if q is not None else 0.0,
            -float(measures.get("bradford_factor", 0) or 0), detector, officer)


def rule_strength(rules: list[dict], thresholds: dict[str, float], percentile: float | None, officer: str) -> tuple:
    excess = max((float(r.get("value") or 0) / thresholds[r["name"]] for r in rules
                  if thresholds.get(str(r.get("name")))), default=0.0)
    return (-(percentile if percentile is not None else -1.0), -len(rules), -excess, officer)


def _fits(item: Item, per_unit: dict[str | None, int], unit_capacity: int | None) -> bool:
    return unit_capacity is None or per_unit.get(item.unit, 0) < unit_capacity


def select(items: list[Item], capacity: int, shares: dict[str, int], unit_capacity: int | None = None) -> Selection:
    """The conduct queue of one period (see the module docstring for the order)."""
    withdrawn = [i for i in items if i.source == "model" and i.model_status != "live" and i.status == "new"]
    live = [i for i in items if i not in withdrawn]
    started = sorted((i for i in live if i.status != "new"), key=lambda i: (SOURCES.index(i.source), i.strength))
    waiting = {s: sorted((i for i in live if i.status == "new" and i.source == s), key=lambda i: i.strength)
               for s in SOURCES}
    queued: list[Item] = []
    per_unit: dict[str | None, int] = {}

    def take(item: Item) -> None:
        queued.append(item)
        per_unit[item.unit] = per_unit.get(item.unit, 0) + 1

    for item in started:
        take(item)
    for source in SOURCES:  # each source up to its share
        quota = shares.get(source, 0) - sum(i.source == source for i in started)
        for item in list(waiting[source]):
            if quota <= 0 or len(queued) >= capacity:
                break
            if _fits(item, per_unit, unit_capacity):
                take(item)
                waiting[source].remove(item)
                quota -= 1
    for source in SOURCES:  # what a source left unused, to the others in turn
        for item in list(waiting[source]):
            if len(queued) >= capacity:
                break
            if _fits(item, per_unit, unit_capacity):
                take(item)
                waiting[source].remove(item)
    for number, item in enumerate(queued, start=1):
        item.position = number
    rest = [i for s in SOURCES for i in waiting[s]]
    return Selection(capacity, queued, rest, withdrawn)


def select_welfare(items: list[Item], capacity: int) -> Selection:
    """The welfare queue of one period: work started, then detector hits (attendance policy)
    by strength, then welfare rule flags by how far over their threshold."""
    started = [i for i in items if i.status != "new"]
    waiting = sorted((i for i in items if i.status == "new"),
                     key=lambda i: (0 if i.source == "detector" else 1, i.strength))
    room = max(0, capacity - len(started))
    queued = started + waiting[:room]
    for number, item in enumerate(queued, start=1):
        item.position = number
    return Selection(capacity, queued, waiting[room:], [])
