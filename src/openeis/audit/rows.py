"""The audit rows: one row per officer and as-of date with flag, label, score and groups.

The rows are the whole input of the audit and, exported with `--rows`, what an external
auditor needs to recompute every number. Columns, in order:

    officer, as_of, flag (0/1), label (0/1), score, <one column per audited attribute>

Attribute values are strings; a characteristic that is not recorded (no row in
restricted.officer_characteristics, or an empty value) is the group `not_recorded`, so
officers without data are counted, not silently dropped. Intersections are one column
named like `ethnicity+gender` with values like `B+F`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from openeis.config.audit import INTERSECTION_SEPARATOR, AuditConfig
from openeis.store import Store

NOT_RECORDED = "not_recorded"
ROW_KEYS = ("officer", "as_of", "flag", "label", "score")
# Characteristic columns read from the restricted table (age_band comes from birth_year).
CHARACTERISTIC_COLUMNS = ("ethnicity", "gender", "birth_year", "disability", "religion",
                          "sexual_orientation")


def read_characteristics(store: Store) -> pd.DataFrame:
    """restricted.officer_characteristics as a frame keyed by `officer` (the pseudonym).

    Protected data: the caller logs this read in the access log (auditor role, purpose
    "bias audit"); nothing else in OpenEIS reads this table.
    """
    columns = ", ".join(CHARACTERISTIC_COLUMNS)
    table = store.query_arrow(
        f"SELECT officer_id AS officer, {columns} FROM restricted.officer_characteristics")
    return table.to_pandas()


def age_band_labels(edges: list[int]) -> list[str]:
    """[25, 35] -> ['<25', '25-34', '35+']."""
    labels = [f"<{edges[0]}"]
    labels += [f"{low}-{high - 1}" for low, high in zip(edges, edges[1:])]
    labels.append(f"{edges[-1]}+")
    return labels


def age_bands(as_of: pd.Series, birth_year: pd.Series, edges: list[int]) -> pd.Series:
    """Age band on each as-of date; age = the as-of year minus the birth year (only the
    year of birth is held, so this is the age reached during that year)."""
    years = pd.to_datetime(as_of).dt.year.to_numpy(dtype=float)
    born = pd.to_numeric(birth_year, errors="coerce").to_numpy(dtype=float)
    age = years - born
    labels = np.array(age_band_labels(edges), dtype=object)
    index = np.searchsorted(np.asarray(edges, dtype=float), age, side="right")
    index = np.clip(index, 0, len(labels) - 1)  # NaN ages are replaced below
    bands = np.where(np.isnan(age), NOT_RECORDED, labels[index])
    return pd.Series(bands, index=as_of.index, dtype=object)


def _text(values: pd.Series) -> pd.Series:
    """Codes as strings, empty and missing values as NOT_RECORDED."""
    out = values.astype(object).where(values.notna(), NOT_RECORDED).astype(str).str.strip()
    return out.where(out != "", NOT_RECORDED)


def audit_rows(scored: pd.DataFrame, characteristics: pd.DataFrame, config: AuditConfig,
               label: str = "label") -> pd.DataFrame:
    """Join flags and labels to the officers' characteristics.

    `scored` has one row per officer and as-of date: `officer`, `as_of`, `flag` (0/1), the
    label column named by `label` (0/1) and, optionally, `score`. `characteristics` is
    what read_characteristics returns (or any frame with `officer` and the attributes).
    """
    missing = [c for c in ("officer", "as_of", "flag", label) if c not in scored.columns]
    if missing:
        raise ValueError(f"scored rows lack column(s): {', '.join(missing)}")
    if scored.duplicated(["officer", "as_of"]).any():
        raise ValueError("scored rows hold an officer twice on one as-of date")
    rows = pd.DataFrame({
        "officer": scored["officer"].astype(str).to_numpy(),
        "as_of": pd.to_datetime(scored["as_of"]).dt.date.to_numpy(),
        "flag": _binary(scored["flag"], "flag"),
        "label": _binary(scored[label], label),
        "score": pd.to_numeric(scored["score"], errors="coerce").to_numpy(dtype=float)
        if "score" in scored.columns else np.nan,
    })
    people = characteristics.drop_duplicates("officer").set_index("officer")
    joined = people.reindex(rows["officer"])
    joined.index = rows.index
    for attribute in config.source_attributes():
        if attribute == "age_band":
            birth = joined["birth_year"] if "birth_year" in joined else pd.Series(np.nan, index=rows.index)
            rows[attribute] = age_bands(pd.Series(rows["as_of"]), birth, config.age_bands)
        else:
            values = joined[attribute] if attribute in joined else pd.Series(np.nan, index=rows.index)
            rows[attribute] = _text(values)
    for combination in config.intersections:
        name = INTERSECTION_SEPARATOR.join(combination)
        combined = rows[combination[0]]
        for attribute in combination[1:]:
            combined = combined + INTERSECTION_SEPARATOR + rows[attribute]
        rows[name] = combined
    keep = list(ROW_KEYS) + config.audited_attributes()
    return rows[keep]


def build_audit_rows(store: Store, scored: pd.DataFrame, config: AuditConfig,
                     label: str = "label") -> pd.DataFrame:
    """audit_rows with the characteristics read from the store."""
    return audit_rows(scored, read_characteristics(store), config, label)


def _binary(values: pd.Series, name: str) -> np.ndarray:
    if values.isna().any():
        raise ValueError(f"{name} has missing values; the audit needs 0 or 1 on every row")
    numbers = values.astype(int).to_numpy()
    if not np.isin(numbers, (0, 1)).all():
        raise ValueError(f"{name} must be 0 or 1")
    return numbers


def attribute_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c not in ROW_KEYS]


def as_of_dates(rows: pd.DataFrame) -> list[date]:
    return sorted(set(rows["as_of"]))
