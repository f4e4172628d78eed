"""The review budget as pure functions (openeis.review.queue): the documented order, the
shares, leftovers in turn, work started keeping its place, the cap per unit, and a model that
is not live never publishing."""

from __future__ import annotations

from openeis.config.queue import QueueConfig
from openeis.csv_safety import csv_text, safe_cell
from openeis.review.queue import Item, rule_strength, select, select_welfare


def _items(source: str, n: int, unit: str = "U1", status: str = "new", model_status: str | None = "live") -> list[Item]:
    return [Item(f"{source}-{unit}-{i}", f"o-{source}-{unit}-{i}", source, "conduct", status, unit,
                 model_status=model_status if source == "model" else None, rank=i + 1, strength=(i,))
            for i in range(n)]


def test_each_source_fills_its_share_then_the_rest_goes_in_turn():
    items = _items("model", 20) + _items("detector", 2) + _items("rule", 50)
    shares = QueueConfig().shares(10)
    assert shares == {"model": 5, "detector": 3, "rule": 2}
    chosen = select(items, 10, shares)
    sources = [i.source for i in chosen.queued]
    # the detectors left one place unused: it goes to the model first
    assert sources == ["model"] * 5 + ["detector"] * 2 + ["rule"] * 2 + ["model"]
    assert [i.position for i in chosen.queued] == list(range(1, 11))
    assert chosen.not_queued_counts() == {"model": 14, "detector": 0, "rule": 48}


def test_work_started_keeps_its_place_and_counts_against_the_budget():
    started = _items("rule", 3, status="in_review")
    chosen = select(started + _items("model", 10), 5, QueueConfig().shares(5))
    assert [i.flag_id for i in chosen.queued[:3]] == [i.flag_id for i in started]
    assert len(chosen.queued) == 5


def test_a_model_that_is_not_live_publishes_nothing():
    items = _items("model", 5, model_status="candidate") + _items("rule", 5)
    chosen = select(items, 4, QueueConfig().shares(4))
    assert {i.source for i in chosen.queued} == {"rule"} and len(chosen.withdrawn) == 5
    assert chosen.not_queued_counts()["model"] == 0


def test_a_unit_capacity_caps_one_unit():
    items = _items("model", 6, unit="U1") + _items("model", 6, unit="U2")
    chosen = select(items, 8, QueueConfig(model_share=1, detector_share=0, rule_share=0).shares(8), unit_capacity=3)
    units = [i.unit for i in chosen.queued]
    assert units.count("U1") == 3 and units.count("U2") == 3


def test_rule_flags_by_the_models_percentile_then_how_far_over():
    thresholds = {"a": 3.0, "b": 2.0}
    low = rule_strength([{"name": "a", "value": 9}], thresholds, 40.0, "x")
    high = rule_strength([{"name": "a", "value": 3}], thresholds, 90.0, "y")
    assert sorted([low, high]) == [high, low]
    further = rule_strength([{"name": "a", "value": 9}], thresholds, None, "x")
    nearer = rule_strength([{"name": "a", "value": 3}], thresholds, None, "y")
    assert sorted([nearer, further]) == [further, nearer]


def test_the_welfare_queue_has_its_own_capacity():
    items = [Item(f"w{i}", f"o{i}", "rule" if i % 2 else "detector", "welfare", "new", "U1", strength=(i,))
             for i in range(6)]
    chosen = select_welfare(items, 2)
    assert [i.source for i in chosen.queued] == ["detector", "detector"] and len(chosen.not_queued) == 4


def test_shares_must_add_up():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        QueueConfig(model_share=0.5, detector_share=0.5, rule_share=0.5)


def test_csv_cells_that_would_run_as_formulas_are_quoted():
    for dangerous in ("=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell(-2) == -2 and safe_cell("officer") == "officer" and safe_cell(None) == ""
    text = csv_text(["a"], [["=1+1"]])
    assert text.splitlines() == ["a", "'=1+1"]
