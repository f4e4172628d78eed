"""Baseline rankings a model must beat (besides the threshold rules)."""

from __future__ import annotations

import numpy as np
import pandas as pd

PRIOR_COUNT_FEATURE = "complaints_count_5y"
PRIOR_COUNT_NAME = "prior_complaints_5y"


def prior_count_scores(frame: pd.DataFrame) -> np.ndarray:
    """Ranking by the number of complaints in the previous 5 years (more ranks higher)."""
    if PRIOR_COUNT_FEATURE not in frame.columns:
        raise ValueError(f"the prior-count baseline needs the feature {PRIOR_COUNT_FEATURE}")
    return frame[PRIOR_COUNT_FEATURE].fillna(0).to_numpy(dtype=np.float64)
