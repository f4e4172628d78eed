"""Department threshold rules: the baseline every model must beat, and live detectors.

A rule fires for an officer on a date when the sum of its features is at or above its
threshold. `rule_hits` gives, for each row of a feature table, the names of the rules it
triggers; an officer is a rule flag when any rule fires.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from openeis.config.models import ThresholdRule


def rule_values(frame: pd.DataFrame, rule: ThresholdRule) -> np.ndarray:
    missing = [f for f in rule.features if f not in frame.columns]
    if missing:
        raise ValueError(f"rule {rule.name}: features not built: {', '.join(missing)} "
                         "(add them to [features] or change the rule)")
    return frame[rule.features].fillna(0).to_numpy(dtype=np.float64).sum(axis=1)


def rule_value_matrix(frame: pd.DataFrame, rules: list[ThresholdRule]) -> np.ndarray:
    """Each rule's summed value: rows of `frame` x rules."""
    if not rules:
        return np.zeros((len(frame), 0))
    return np.column_stack([rule_values(frame, r) for r in rules])


def fires(values: np.ndarray, rules: list[ThresholdRule]) -> np.ndarray:
    """From rule_value_matrix: True where the rule's value reaches its threshold."""
    return values >= np.array([r.at_least for r in rules])


def rule_matrix(frame: pd.DataFrame, rules: list[ThresholdRule]) -> np.ndarray:
    """Boolean matrix: rows of `frame` x rules, True where the rule fires."""
    return fires(rule_value_matrix(frame, rules), rules)


def rule_hits(frame: pd.DataFrame, rules: list[ThresholdRule]) -> list[list[str]]:
    fired = rule_matrix(frame, rules)
    names = np.array([r.name for r in rules])
    return [list(names[row]) for row in fired]


def rule_flags(frame: pd.DataFrame, rules: list[ThresholdRule]) -> np.ndarray:
    """True where any rule fires."""
    return rule_matrix(frame, rules).any(axis=1)


def rule_sentence(rule: ThresholdRule, value: float) -> str:
    shown = int(value) if float(value).is_integer() else round(float(value), 1)
    return f"Threshold rule: {rule.description} (this officer: {shown})."
