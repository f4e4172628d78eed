"""Leakage-free features, labels and temporal splits, as of any date, in one pass.

    from openeis.features import build_features, compute_labels, split_plan

Names are imported lazily: openeis.config imports the config sections from
openeis.features.definitions, and that must not pull in the SQL machinery.
"""

from __future__ import annotations

from importlib import import_module

_WHERE = {
    "build_features": "build", "features_table": "build", "plan": "build",
    "DefinitionError": "compile",
    "parse_as_of": "dates",
    "FeaturesConfig": "definitions", "LabelsConfig": "definitions", "SplitsConfig": "definitions",
    "compute_labels": "labels", "label_definitions": "labels",
    "Split": "splits", "split_plan": "splits",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"openeis.features.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'openeis.features' has no attribute {name!r}")
