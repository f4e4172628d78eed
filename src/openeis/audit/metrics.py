"""Group metrics, bootstrap intervals, disparity ratios and verdicts.

Per audited attribute and group: confusion counts and eight rates, computed by fairlearn's
MetricFrame (group_table). Intervals come from a bootstrap that resamples officers within
each group (an officer's rows on several as-of dates stay together); it is vectorised by
drawing, for each replicate, how many officers of each distinct count pattern are taken
(a multinomial draw), so its cost does not grow with the number of officers.

Conventions: a rate with a zero denominator is NaN (as in aequitas); a ratio x / 0 is inf
for x > 0 and NaN for 0 / 0. Neither ever gets a within- or outside-band verdict.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate

from openeis.config.audit import METRICS, AuditConfig
from openeis.audit.rows import NOT_RECORDED

COUNTS = ("tp", "fp", "fn", "tn")
# What each rate divides: (numerator, denominator), both counts of a group.
PARTS = {
    "prevalence": ("positives", "size"),
    "flag_rate": ("flags", "size"),
    "precision": ("tp", "flags"),
    "fpr": ("fp", "negatives"),
    "fnr": ("fn", "positives"),
    "fdr": ("fp", "flags"),
    "for": ("fn", "unflagged"),
    "tpr": ("tp", "positives"),
}
HIGHER_IS_BETTER = {"precision", "tpr"}
USES_FLAGS = set(METRICS) - {"prevalence"}
USES_LABELS = set(METRICS) - {"flag_rate"}

WITHIN = "within band"
OUTSIDE = "outside band"
INSUFFICIENT = "insufficient data"
REFERENCE = "reference"


# -- point estimates: fairlearn's MetricFrame -----------------------------------------------
# MetricFrame splits the data by group and applies each function below to every group.
# It is given one row per (group, label, flag) cell weighted by its number of rows, not
# one row per officer: the results are the same (integer sums, then one division), and
# fairlearn's per-call cost, which grows with the rows it is handed, stays negligible at
# national scale. A 0/0 rate is NaN, as in aequitas.

def _cells(y_true, y_pred, sample_weight) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of one group."""
    label = np.asarray(y_true).astype(bool)
    flag = np.asarray(y_pred).astype(bool)
    weight = np.asarray(sample_weight, dtype=np.int64)
    return (int(weight[flag & label].sum()), int(weight[flag & ~label].sum()),
            int(weight[~flag & label].sum()), int(weight[~flag & ~label].sum()))


def _rate(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else np.nan


def _size(y_true, y_pred, sample_weight):
    return int(np.sum(sample_weight))


def _tp(y_true, y_pred, sample_weight):
    return _cells(y_true, y_pred, sample_weight)[0]


def _fp(y_true, y_pred, sample_weight):
    return _cells(y_true, y_pred, sample_weight)[1]


def _fn(y_true, y_pred, sample_weight):
    return _cells(y_true, y_pred, sample_weight)[2]


def _tn(y_true, y_pred, sample_weight):
    return _cells(y_true, y_pred, sample_weight)[3]


def _prevalence(y_true, y_pred, sample_weight):
    tp, fp, fn, tn = _cells(y_true, y_pred, sample_weight)
    return _rate(tp + fn, tp + fp + fn + tn)


def _precision(y_true, y_pred, sample_weight):
    tp, fp, fn, tn = _cells(y_true, y_pred, sample_weight)
    return _rate(tp, tp + fp)


def _fpr(y_true, y_pred, sample_weight):
    tp, fp, fn, tn = _cells(y_true, y_pred, sample_weight)
    return _rate(fp, fp + tn)


def _fnr(y_true, y_pred, sample_weight):
    tp, fp, fn, tn = _cells(y_true, y_pred, sample_weight)
    return _rate(fn, fn + tp)


def _fdr(y_true, y_pred, sample_weight):
    tp, fp, fn, tn = _cells(y_true, y_pred, sample_weight)
    return _rate(fp, fp + tp)


def _for(y_true, y_pred, sample_weight):
    tp, fp, fn, tn = _cells(y_true, y_pred, sample_weight)
    return _rate(fn, fn + tn)


def _tpr(y_true, y_pred, sample_weight):
    tp, fp, fn, tn = _cells(y_true, y_pred, sample_weight)
    return _rate(tp, tp + fn)


METRIC_FUNCTIONS = {
    "size": _size,
    "tp": _tp, "fp": _fp, "fn": _fn, "tn": _tn,
    "prevalence": _prevalence,
    "flag_rate": selection_rate,  # fairlearn's: weighted share of rows with y_pred = 1
    "precision": _precision,
    "fpr": _fpr,
    "fnr": _fnr,
    "fdr": _fdr,
    "for": _for,
    "tpr": _tpr,
}


def group_table(rows: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """One row per group of `attribute` (sorted): officers, size, counts and the eight rates."""
    cells = (rows.assign(**{attribute: rows[attribute].astype(str)})
             .groupby([attribute, "label", "flag"]).size().reset_index(name="rows"))
    weights = cells["rows"].to_numpy()
    frame = MetricFrame(
        metrics=METRIC_FUNCTIONS,
        y_true=cells["label"].to_numpy(),
        y_pred=cells["flag"].to_numpy(),
        sensitive_features=cells[attribute].rename(attribute),
        sample_params={name: {"sample_weight": weights} for name in METRIC_FUNCTIONS},
    )
    table = frame.by_group.copy()
    for column in ("size",) + COUNTS:
        table[column] = table[column].astype(np.int64)
    officers = rows.groupby(rows[attribute].astype(str))["officer"].nunique()
    table.insert(0, "officers", officers.reindex(table.index))
    table["flags"] = table["tp"] + table["fp"]
    table["positives"] = table["tp"] + table["fn"]
    table["negatives"] = table["fp"] + table["tn"]
    table["unflagged"] = table["fn"] + table["tn"]
    table.index = table.index.astype(str)
    return table.sort_index()


# -- the same rates from counts, vectorised (bootstrap replicates) -------------------------

def rates_from_counts(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    """Every rate of METRICS from confusion counts (arrays of any shape); 0/0 gives NaN."""
    c = {"tp": np.asarray(tp, float), "fp": np.asarray(fp, float),
         "fn": np.asarray(fn, float), "tn": np.asarray(tn, float)}
    c["size"] = c["tp"] + c["fp"] + c["fn"] + c["tn"]
    c["flags"] = c["tp"] + c["fp"]
    c["positives"] = c["tp"] + c["fn"]
    c["negatives"] = c["fp"] + c["tn"]
    c["unflagged"] = c["fn"] + c["tn"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return {m: c[num] / c[den] for m, (num, den) in PARTS.items()}


def _stream(seed: int, *names: str) -> np.random.Generator:
    """A random stream per (attribute, group): results do not depend on the order of groups."""
    return np.random.default_rng([seed] + [zlib.crc32(n.encode()) for n in names])


def bootstrap_rates(rows: pd.DataFrame, attribute: str, group: str, config: AuditConfig) -> dict[str, np.ndarray]:
    """Replicates of every rate for one group, officers resampled with replacement."""
    members = rows[rows[attribute] == group]
    flag = members["flag"].to_numpy()
    label = members["label"].to_numpy()
    per_officer = pd.DataFrame({
        "officer": members["officer"].to_numpy(),
        "tp": flag & label, "fp": flag & (1 - label),
        "fn": (1 - flag) & label, "tn": (1 - flag) & (1 - label),
    }).groupby("officer", sort=False)[list(COUNTS)].sum()
    # Officers with the same counts are interchangeable: resample the patterns instead.
    patterns = per_officer.value_counts(sort=False)
    shapes = np.array(patterns.index.tolist(), dtype=float).reshape(-1, 4)
    officers = len(per_officer)
    rng = _stream(config.seed, attribute, group)
    draws = rng.multinomial(officers, patterns.to_numpy() / officers, size=config.bootstrap_replicates)
    totals = draws @ shapes  # replicates x (tp, fp, fn, tn)
    return rates_from_counts(totals[:, 0], totals[:, 1], totals[:, 2], totals[:, 3])


def interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval; NaN replicates (0/0) are left out. Quantiles pick replicate
    values (no interpolation), so infinite ratios give inf, not NaN."""
    finite_or_inf = replicates[~np.isnan(replicates)]
    if len(finite_or_inf) == 0:
        return (np.nan, np.nan)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite_or_inf, [tail, 1.0 - tail], method="inverted_cdf")
    return float(low), float(high)


def ratio(a, b):
    """a / b with x/0 = inf and 0/0 = NaN, never an exception."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(np.asarray(a, float), np.asarray(b, float))


# -- reference groups, disparities and verdicts ---------------------------------------------

@dataclass
class AttributeAudit:
    attribute: str
    groups: pd.DataFrame  # group_table plus <metric>_low / <metric>_high columns
    disparities: pd.DataFrame  # one row per (group, metric)
    reference_note: str


def _shortfalls(table: pd.DataFrame, group: str, metric: str, config: AuditConfig) -> list[str]:
    """Why a group is too thin for a verdict on a metric (empty: enough data)."""
    row = table.loc[group]
    out = []
    if row["officers"] < config.min_group_officers:
        out.append(f"{group} has {row['officers']:g} officers (fewer than {config.min_group_officers})")
    if metric in USES_FLAGS and row["flags"] < config.min_flags:
        out.append(f"{group} has {row['flags']:g} flags (fewer than {config.min_flags})")
    if metric in USES_LABELS and row["positives"] < config.min_positives:
        out.append(f"{group} has {row['positives']:g} label positives (fewer than {config.min_positives})")
    return out


def choose_reference(table: pd.DataFrame, attribute: str, metric: str,
                     config: AuditConfig) -> tuple[str | None, str]:
    """(reference group, note). `not_recorded` is never a reference."""
    candidates = table[table.index != NOT_RECORDED]
    if candidates.empty:
        return None, "no recorded group to compare with"
    # The most rows, ties to the first name (as aequitas' get_disparity_major_group).
    largest = str(candidates["size"].idxmax())
    if config.reference == "named":
        named = config.reference_groups.get(attribute)
        if named is not None and named in candidates.index:
            return named, f"named reference group {named}"
        if named is not None:
            return largest, f"named reference group {named} is absent; the largest group {largest} is used"
        return largest, f"no reference group named for {attribute}; the largest group {largest} is used"
    if config.reference == "best":
        enough = [g for g in candidates.index if not _shortfalls(table, g, metric, config)]
        values = candidates.loc[enough, metric].dropna() if enough else pd.Series(dtype=float)
        if values.empty:
            return largest, f"no group has enough data to be the best on {metric}; the largest group {largest} is used"
        best = str(values.idxmax() if metric in HIGHER_IS_BETTER else values.idxmin())
        return best, f"best group on {metric}"
    return largest, f"largest group {largest}"


def audit_attribute(rows: pd.DataFrame, attribute: str, config: AuditConfig) -> tuple[AttributeAudit, dict]:
    """Groups and disparities of one attribute, before verdicts (they need the whole family).

    Returns the audit and {(attribute, group, metric): ratio replicates} for the verdict step.
    """
    table = group_table(rows, attribute)
    replicates = {group: bootstrap_rates(rows, attribute, group, config) for group in table.index}
    for metric in METRICS:
        bounds = [interval(replicates[g][metric], config.confidence) for g in table.index]
        table[f"{metric}_low"] = [b[0] for b in bounds]
        table[f"{metric}_high"] = [b[1] for b in bounds]

    records, ratio_replicates, notes = [], {}, {}
    for metric in METRICS:
        reference, note = choose_reference(table, attribute, metric, config)
        notes[metric] = note
        for group in table.index:
            value = float(table.loc[group, metric])
            record = {"attribute": attribute, "group": group, "metric": metric, "reference": reference,
                      "value": value, "reference_value": np.nan, "ratio": np.nan,
                      "ratio_low": np.nan, "ratio_high": np.nan, "verdict": INSUFFICIENT, "reason": ""}
            if reference is None:
                record["reason"] = note
                records.append(record)
                continue
            reference_value = float(table.loc[reference, metric])
            record["reference_value"] = reference_value
            record["ratio"] = float(ratio(value, reference_value))
            if group == reference:
                record["verdict"], record["reason"] = REFERENCE, note
                records.append(record)
                continue
            draws = ratio(replicates[group][metric], replicates[reference][metric])
            record["ratio_low"], record["ratio_high"] = interval(draws, config.confidence)
            short = _shortfalls(table, group, metric, config) + _shortfalls(table, reference, metric, config)
            if short:
                record["reason"] = "; ".join(short)
            elif not np.isfinite(record["ratio"]) or record["ratio"] == 0:
                record["reason"] = (f"{metric} is {value:g} for {group} and {reference_value:g} for "
                                    f"{reference}: a ratio of 0, infinity or 0/0 cannot be bounded")
            else:
                ratio_replicates[(attribute, group, metric)] = draws
            records.append(record)
    columns = ["attribute", "group", "metric", "reference", "value", "reference_value", "ratio",
               "ratio_low", "ratio_high", "verdict", "reason"]
    disparities = pd.DataFrame.from_records(records, columns=columns)
    note = "; ".join(sorted({n for n in notes.values()}))
    return AttributeAudit(attribute, table.reset_index(names="group"), disparities, note), ratio_replicates


def judge(audits: list[AttributeAudit], replicates: dict, config: AuditConfig) -> None:
    """Verdicts for every comparison with enough data, in place.

    - within band: the reported interval (at `confidence`) lies inside the band;
    - outside band: the ratio is outside the band, and the verdict interval (at
      1 - (1 - confidence) / m for the m comparisons of the same metric, with
      family_confidence) excludes 1: a gap that large is not plausibly chance;
    - insufficient data: anything else (too few officers, flags or positives; a ratio of
      0 or infinity; or an interval too wide to say).
    """
    low, high = config.band
    family = {m: sum(1 for key in replicates if key[2] == m) for m in METRICS}
    for audit in audits:
        table = audit.disparities
        table["verdict_low"] = np.nan
        table["verdict_high"] = np.nan
        for index, row in table.iterrows():
            key = (audit.attribute, row["group"], row["metric"])
            if key not in replicates:
                continue
            size = family[row["metric"]] if config.family_confidence else 1
            level = 1.0 - (1.0 - config.confidence) / max(size, 1)
            v_low, v_high = interval(replicates[key], level)
            table.at[index, "verdict_low"], table.at[index, "verdict_high"] = v_low, v_high
            value = row["ratio"]
            if low <= row["ratio_low"] and row["ratio_high"] <= high:
                verdict, reason = WITHIN, (f"the {config.confidence:.0%} interval "
                                           f"[{row['ratio_low']:.2f}, {row['ratio_high']:.2f}] lies inside the band")
            elif (value < low or value > high) and (v_low > 1 or v_high < 1):
                verdict, reason = OUTSIDE, (f"ratio {value:.2f} is outside the band and its {level:.2%} interval "
                                            f"[{v_low:.2f}, {v_high:.2f}] (allowing for {size} comparisons) excludes 1")
            elif value < low or value > high:
                # Name the interval the verdict used: the wider one, allowing for the comparisons.
                verdict, reason = INSUFFICIENT, (f"ratio {value:.2f} is outside the band but its {level:.2%} interval "
                                                 f"[{v_low:.2f}, {v_high:.2f}] (allowing for {size} comparisons) "
                                                 "includes 1: too little data to say it differs")
            else:
                verdict, reason = INSUFFICIENT, (f"the {config.confidence:.0%} interval "
                                                 f"[{row['ratio_low']:.2f}, {row['ratio_high']:.2f}] is too wide to say "
                                                 "whether the ratio is within the band")
            table.at[index, "verdict"], table.at[index, "reason"] = verdict, reason
