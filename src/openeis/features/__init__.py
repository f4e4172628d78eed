"""Leakage-free features, labels and temporal splits, as of any date, in one pass.

    from openeis.features import build_features, compute_labels, split_plan
"""

from openeis.config.features import FeaturesConfig, LabelsConfig, SplitsConfig
from openeis.features.build import build_features, features_table, plan
from openeis.features.compile import DefinitionError
from openeis.features.dates import parse_as_of
from openeis.features.labels import compute_labels, label_definitions
from openeis.features.splits import Split, split_plan

__all__ = [
    "DefinitionError", "FeaturesConfig", "LabelsConfig", "Split", "SplitsConfig", "build_features",
    "compute_labels", "features_table", "label_definitions", "parse_as_of", "plan", "split_plan",
]
