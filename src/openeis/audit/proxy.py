"""Proxy check: can the model's inputs stand in for a protected characteristic?

Protected characteristics never enter the model, but other inputs can carry them (tenure
carries age). For each audited single attribute, a regularised logistic regression learns
to predict the attribute from the model's input matrix; its cross-validated AUC says how
much of the attribute the inputs carry (0.5: nothing; 1: everything), and the largest
absolute coefficients on standardised inputs say which inputs carry it.

Bounded time: at most `proxy_max_rows` rows (a seeded sample), a fixed number of folds,
folds grouped by officer (an officer's rows on several dates never sit on both sides).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from openeis.config.audit import INTERSECTION_SEPARATOR, AuditConfig
from openeis.audit.rows import NOT_RECORDED
from openeis.schema import TABLES

KEYS = ("officer", "as_of")
MAX_CATEGORIES = 30  # a text input with more distinct values is an identifier, not a feature


def protected_columns() -> set[str]:
    """Column names of the restricted tables (what may never be a model input)."""
    return {c.name for t in TABLES if t.restricted for c in t.columns} - {
        "officer_id", "complaint_id", "complainant_id", "recorded_at"}


def input_matrix(features: pd.DataFrame) -> pd.DataFrame:
    """Numeric inputs as float, text inputs one-hot; keys left out."""
    columns = [c for c in features.columns if c not in KEYS]
    forbidden = sorted(set(columns) & (protected_columns() | {"age_band"}))
    if forbidden:
        raise ValueError(f"the feature matrix holds protected characteristics: {', '.join(forbidden)}")
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(features[c])
               or pd.api.types.is_bool_dtype(features[c])]
    parts = [features[numeric].astype(float)]
    for column in columns:
        if column in numeric:
            continue
        values = features[column].astype("string")
        if values.nunique(dropna=True) <= MAX_CATEGORIES:
            parts.append(pd.get_dummies(values, prefix=column, prefix_sep="=", dtype=float))
    return pd.concat(parts, axis=1)


def _sample(frame: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    if len(frame) <= limit:
        return frame
    chosen = np.random.default_rng(seed).choice(len(frame), size=limit, replace=False)
    return frame.iloc[np.sort(chosen)]


def _classifier() -> Any:
    # A column with no value at all -> 0, as the model code's own imputer does.
    return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                         LogisticRegression(C=0.1, max_iter=500))


def proxy_check(features: pd.DataFrame, rows: pd.DataFrame, config: AuditConfig) -> pd.DataFrame:
    """One row per single audited attribute: auc, classes, rows_used, top_features, note.

    `features` holds `officer`, `as_of` and the model's input columns; `rows` are the audit
    rows. top_features is a list of {feature, weight}: weight is the largest absolute
    coefficient of the standardised input over the classes (for two classes, its sign says
    which class it points to: positive towards the second class in sorted order).
    """
    keyed = features.assign(as_of=pd.to_datetime(features["as_of"]).dt.date)
    attributes = [a for a in config.attributes if INTERSECTION_SEPARATOR not in a]
    groups = rows[list(KEYS) + attributes].assign(as_of=pd.to_datetime(rows["as_of"]).dt.date)
    joined = _sample(keyed.merge(groups, on=list(KEYS), how="inner"), config.proxy_max_rows, config.seed)
    matrix = input_matrix(joined[[c for c in keyed.columns]])
    matrix = matrix.loc[:, matrix.notna().any()]  # inputs empty on every sampled row say nothing
    out = []
    # One BLAS thread: small fits gain nothing from more, and on a shared machine
    # oversubscribed threads made them ten times slower (measured).
    with threadpool_limits(limits=1):
        for attribute in attributes:
            out.append(_one_attribute(matrix, joined[attribute].astype(str), joined["officer"], attribute, config))
    return pd.DataFrame(out, columns=["attribute", "auc", "classes", "rows_used", "top_features", "note"])


def _one_attribute(matrix: pd.DataFrame, target: pd.Series, officers: pd.Series, attribute: str,
                   config: AuditConfig) -> dict:
    result: dict[str, Any] = {"attribute": attribute, "auc": np.nan, "classes": [], "rows_used": 0, "top_features": [], "note": ""}
    known = (target != NOT_RECORDED).to_numpy()
    sizes = officers[known].groupby(target[known]).nunique()  # folds split officers, not rows
    kept = sorted(sizes[sizes >= config.proxy_folds].index)  # every fold needs each class
    dropped = sorted(set(sizes.index) - set(kept))
    use = known & target.isin(kept).to_numpy()
    result["classes"], result["rows_used"] = kept, int(use.sum())
    if dropped:
        result["note"] = f"left out (fewer than {config.proxy_folds} officers): {', '.join(dropped)}. "
    if len(kept) < 2 or matrix.shape[1] == 0:
        result["note"] += "fewer than two groups to tell apart" if len(kept) < 2 else "no inputs"
        return result
    x = matrix.to_numpy()[use]
    y = target.to_numpy()[use]
    folds = StratifiedGroupKFold(n_splits=config.proxy_folds, shuffle=True, random_state=config.seed)
    probabilities = cross_val_predict(_classifier(), x, y, groups=officers.to_numpy()[use], cv=folds,
                                      method="predict_proba")
    if len(kept) == 2:
        result["auc"] = float(roc_auc_score(y, probabilities[:, 1]))
    else:  # one group against the rest, averaged over groups
        result["auc"] = float(roc_auc_score(y, probabilities, multi_class="ovr", average="macro", labels=kept))
    model = _classifier().fit(x, y)
    coefficients = model[-1].coef_  # (1 or classes) x inputs, on standardised inputs
    if coefficients.shape[0] == 1:
        weights = coefficients[0]
    else:
        weights = np.abs(coefficients).max(axis=0)
    order = np.argsort(-np.abs(weights), kind="stable")[: config.proxy_top_features]
    result["top_features"] = [{"feature": str(matrix.columns[i]), "weight": float(weights[i])} for i in order]
    return result
