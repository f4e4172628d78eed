"""From a feature table to a model's input matrix.

Inputs are every numeric feature plus one-hot columns for the low-cardinality categorical
ones (role, unit function). The peer group's unit is an identifier, not a feature, and the
key columns never enter. Protected characteristics are not in the feature table at all
(features/officer_attributes.py), and `check_no_protected` refuses them if a config tried.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from openeis.schema import TABLES

KEYS = ("officer", "as_of")
CATEGORICAL = ("posting_role", "unit_function")
NOT_INPUTS = {"peer_unit", "posting_rank"}  # an identifier; rank_level carries the rank


def protected_columns() -> set[str]:
    """Column names of the restricted tables (protected characteristics, complainants)."""
    return {c.name for t in TABLES if t.restricted for c in t.columns} - {
        "officer_id", "complaint_id", "complainant_id", "recorded_at"}


def check_no_protected(columns: list[str]) -> None:
    found = sorted(set(columns) & protected_columns())
    if found:
        raise ValueError(f"protected characteristics may not be model inputs: {', '.join(found)}")


def to_frame(features: pa.Table | pd.DataFrame) -> pd.DataFrame:
    if isinstance(features, pa.Table):
        features = features.to_pandas()
    return features


@dataclass(frozen=True)
class MatrixSpec:
    """The model's input columns, fixed at training time."""

    numeric: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]  # categorical column -> values seen in training

    @property
    def columns(self) -> list[str]:
        one_hot = [f"{c}={v}" for c, values in self.categories.items() for v in values]
        return list(self.numeric) + one_hot

    def source_column(self, column: str) -> str:
        """The feature a matrix column comes from (a one-hot column -> its categorical)."""
        return column.split("=", 1)[0]

    @classmethod
    def from_training(cls, frame: pd.DataFrame) -> MatrixSpec:
        return cls.from_columns(frame, frame)

    @classmethod
    def from_columns(cls, columns: pd.DataFrame, categorical: pd.DataFrame) -> MatrixSpec:
        """From a frame with the training columns (their types; no rows needed) and one with
        every training value of the categorical columns (a streamed file reads only those)."""
        numeric = [c for c in columns.columns if c not in KEYS and c not in NOT_INPUTS
                   and c not in CATEGORICAL and pd.api.types.is_numeric_dtype(columns[c])]
        categories = {c: tuple(sorted(categorical[c].dropna().astype(str).unique()))
                      for c in CATEGORICAL if c in columns.columns}
        check_no_protected(numeric + list(categories))
        return cls(tuple(numeric), categories)

    def restricted(self, columns: list[str]) -> MatrixSpec:
        """Only these numeric columns (a model on a baseline's inputs)."""
        unknown = [c for c in columns if c not in self.numeric]
        if unknown:
            raise ValueError(f"features missing for the model: {', '.join(unknown)}")
        return MatrixSpec(tuple(columns), {})

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """float64 matrix, NaN for unknown; missing numeric columns are an error."""
        missing = [c for c in self.numeric if c not in frame.columns]
        if missing:
            raise ValueError(f"features missing for the model: {', '.join(missing[:5])}")
        # filled column by column into one array: building parts and stacking them held the
        # matrix twice (over a gigabyte each for a national training frame)
        out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for i, column in enumerate(self.numeric):
            out[:, i] = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        i = len(self.numeric)
        for column, values in self.categories.items():
            codes = frame[column].astype("string") if column in frame.columns else pd.Series(
                pd.NA, index=frame.index, dtype="string")
            for v in values:
                out[:, i] = (codes == v).fillna(False).to_numpy(dtype=np.float64)
                i += 1
        return out
