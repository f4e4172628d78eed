"""Every number of the audit equals aequitas' on the same rows, to 1e-9.

aequitas 1.1.0 needs pandas < 3, which clashes with ours, so it lives in its own virtual
environment, built once (tests/support/aequitas_env.py: at ./.venv-aequitas, or
$OPENEIS_AEQUITAS_VENV) and reused while its stamp file is there. The audit's rows go to it
as the `--rows` CSV, and tests/audit/aequitas/run_aequitas.py sends its numbers back as JSON.

Known convention differences, checked explicitly:
- a ratio x / 0 is inf in the audit and 10.0 in aequitas (its fill_divbyzero);
- `best` reference: the audit takes the highest precision and TPR as best, aequitas'
  min_metric the lowest, so those two are compared only on the lower-is-better metrics.
"""

from __future__ import annotations

import json
import math
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openeis.audit import AuditConfig, run_audit, write_rows_csv
from support import aequitas_env

RUNNER = Path(__file__).parent / "aequitas" / "run_aequitas.py"
# audit metric -> aequitas column
AEQUITAS_NAMES = {"prevalence": "prev", "flag_rate": "pprev", "precision": "precision", "fpr": "fpr",
                  "fnr": "fnr", "fdr": "fdr", "for": "for", "tpr": "tpr"}
COUNT_NAMES = {"size": "group_size", "tp": "tp", "fp": "fp", "fn": "fn", "tn": "tn", "flags": "pp",
               "unflagged": "pn"}
LOWER_IS_BETTER = ["prevalence", "flag_rate", "fpr", "fnr", "fdr", "for"]
TOLERANCE = 1e-9


@pytest.fixture(scope="session")
def aequitas_python() -> Path:
    """The aequitas environment's python (tests/support/aequitas_env.py builds it on first
    use, under a lock; .ci/run starts that build early, beside the install)."""
    try:
        return aequitas_env.build()
    except aequitas_env.BuildFailed as error:
        pytest.fail(str(error))


def invented_rows(seed: int, with_not_recorded: bool = True) -> pd.DataFrame:
    """Audit rows of an invented force: groups of very different sizes and rates, and the
    edge cases (a group never flagged, one without positives, one flagged entirely)."""
    rng = np.random.default_rng(seed)
    sizes = {"A": 900, "B": 400, "C": 250, "D": 120, "E": 60, "F": 50, "G": 35}
    if with_not_recorded:
        sizes["not_recorded"] = 30
    ethnicity = np.concatenate([[g] * n for g, n in sizes.items()])
    n = len(ethnicity)
    flag_rate = pd.Series(ethnicity).map({"A": 0.06, "B": 0.09, "C": 0.04, "D": 0.12, "E": 0.0, "F": 0.08,
                                          "G": 1.0, "not_recorded": 0.1}).to_numpy()
    label_rate = pd.Series(ethnicity).map({"A": 0.05, "B": 0.08, "C": 0.05, "D": 0.04, "E": 0.1, "F": 0.0,
                                           "G": 0.2, "not_recorded": 0.05}).to_numpy()
    flag = (rng.random(n) < flag_rate).astype(int)
    label = (rng.random(n) < label_rate + 0.15 * flag * (label_rate > 0)).astype(int)
    gender = np.where(rng.random(n) < 0.3, "F", "M")
    rows = pd.DataFrame({
        "officer": [f"{i:020x}" for i in rng.permutation(10**6)[:n]],
        "as_of": date(2023, 1, 1),
        "flag": flag,
        "label": label,
        "score": rng.random(n),
        "ethnicity": ethnicity,
        "gender": gender,
    })
    rows["ethnicity+gender"] = rows["ethnicity"] + "+" + rows["gender"]
    return rows.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _config(**changes) -> AuditConfig:
    base = dict(attributes=["ethnicity", "gender"], intersections=[["ethnicity", "gender"]],
                reference="named", reference_groups={"ethnicity": "A", "gender": "M", "ethnicity+gender": "A+M"},
                bootstrap_replicates=200)
    return AuditConfig(**(base | changes))


def _aequitas(python: Path, rows: pd.DataFrame, config: AuditConfig, tmp_path: Path) -> dict:
    rows_csv = write_rows_csv(rows, tmp_path / "rows.csv")
    spec = tmp_path / "spec.json"
    # aequitas' named disparities need a reference for every attribute, even when unused
    reference_groups = {"ethnicity": "A", "gender": "M", "ethnicity+gender": "A+M"} | config.reference_groups
    spec.write_text(json.dumps({"attributes": config.audited_attributes(), "reference_groups": reference_groups}))
    out = tmp_path / "aequitas.json"
    done = subprocess.run([str(python), str(RUNNER), str(rows_csv), str(spec), str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def _same(ours: float, theirs: float | None, ratio: bool = False) -> bool:
    theirs = math.nan if theirs is None else theirs
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if ratio and math.isinf(ours):
        return theirs == 10.0  # aequitas caps x / 0 at fill_divbyzero
    return abs(ours - theirs) <= TOLERANCE


def _index(records: list[dict]) -> dict:
    return {(r["attribute_name"], r["attribute_value"]): r for r in records}


def test_group_metrics_and_named_disparities_equal_aequitas(aequitas_python, tmp_path):
    rows = invented_rows(1)
    config = _config()
    result = run_audit(rows, config)
    theirs = _aequitas(aequitas_python, rows, config, tmp_path)
    crosstab = _index(theirs["crosstab"])
    assert len(crosstab) == len(result.groups)
    checked = 0
    for _, row in result.groups.iterrows():  # not itertuples: `for` is a column
        other = crosstab[(row["attribute"], row["group"])]
        for ours, name in COUNT_NAMES.items():
            assert row[ours] == other[name], (row["attribute"], row["group"], ours)
        for metric, name in AEQUITAS_NAMES.items():
            assert _same(float(row[metric]), other[name]), (row["attribute"], row["group"], metric)
            checked += 1
    named = _index(theirs["named"])
    for row in result.disparities.itertuples():
        other = named[(row.attribute, row.group)]
        assert _same(row.ratio, other[f"{AEQUITAS_NAMES[row.metric]}_disparity"], ratio=True), row
        checked += 1
    assert checked > 400
    # the edge groups really are edges, and gave numbers rather than errors
    groups = result.groups.set_index(["attribute", "group"])
    assert groups.loc[("ethnicity", "E"), "flags"] == 0 and math.isnan(groups.loc[("ethnicity", "E"), "precision"])
    assert groups.loc[("ethnicity", "F"), "positives"] == 0 and math.isnan(groups.loc[("ethnicity", "F"), "tpr"])
    assert groups.loc[("ethnicity", "G"), "flag_rate"] == 1.0


@pytest.mark.parametrize("seed", [2, 3])
def test_largest_and_best_references_equal_aequitas(aequitas_python, tmp_path, seed):
    rows = invented_rows(seed, with_not_recorded=False)
    loose = dict(min_group_officers=1, min_flags=0, min_positives=0)  # every group may be the best
    largest = run_audit(rows, _config(reference="largest", reference_groups={}, **loose))
    best = run_audit(rows, _config(reference="best", reference_groups={}, **loose))
    theirs = _aequitas(aequitas_python, rows, largest.config, tmp_path)
    major, minimum = _index(theirs["major"]), _index(theirs["min_metric"])
    for row in largest.disparities.itertuples():
        other = major[(row.attribute, row.group)]
        assert row.reference == other[f"{AEQUITAS_NAMES[row.metric]}_ref_group_value"]
        assert _same(row.ratio, other[f"{AEQUITAS_NAMES[row.metric]}_disparity"], ratio=True), row
    compared = best.disparities[best.disparities["metric"].isin(LOWER_IS_BETTER)]
    for row in compared.itertuples():
        other = minimum[(row.attribute, row.group)]
        assert row.reference == other[f"{AEQUITAS_NAMES[row.metric]}_ref_group_value"], row
        assert _same(row.ratio, other[f"{AEQUITAS_NAMES[row.metric]}_disparity"], ratio=True), row


def test_rows_csv_recomputes_the_same_audit(tmp_path):
    """What an external auditor gets with --rows is enough to recompute every number."""
    rows = invented_rows(4)
    config = _config()
    path = write_rows_csv(rows, tmp_path / "rows.csv")
    again = pd.read_csv(path, dtype={a: str for a in config.audited_attributes()}, keep_default_na=False)
    assert list(again.columns) == list(rows.columns)
    first, second = run_audit(rows, config), run_audit(again, config)
    pd.testing.assert_frame_equal(first.groups, second.groups)
    pd.testing.assert_frame_equal(first.disparities, second.disparities)
    assert np.array_equal(again["score"].to_numpy(), rows["score"].to_numpy())
