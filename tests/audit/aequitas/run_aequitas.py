"""Run inside the aequitas environment (see tests/test_audit_aequitas.py), not by pytest.

    python run_aequitas.py ROWS.csv SPEC.json OUT.json

Reads the audit rows as CSV (flag -> aequitas `score`, label -> `label_value`), computes
aequitas' group metrics and disparities for the attributes in SPEC, and writes them as JSON
(NaN as null). SPEC: {"attributes": [...], "reference_groups": {attribute: group}}.
"""

import json
import sys

import numpy as np
import pandas as pd
from aequitas.bias import Bias
from aequitas.group import Group

METRICS = ["ppr", "pprev", "precision", "fdr", "for", "fpr", "fnr", "tpr", "tnr", "npv", "prev"]
KEEP = ["attribute_name", "attribute_value", "group_size", "tp", "fp", "fn", "tn", "pp", "pn",
        "prev", "pprev", "precision", "fpr", "fnr", "fdr", "for", "tpr", "tnr", "npv", "ppr"]


def records(frame, columns):
    out = frame[columns].astype(object).where(frame[columns].notna(), None)
    return [{k: (float(v) if isinstance(v, (np.floating, float)) else
                 int(v) if isinstance(v, (np.integer, int)) else v) for k, v in row.items()}
            for row in out.to_dict("records")]


def main(rows_path, spec_path, out_path):
    spec = json.load(open(spec_path))
    attributes = spec["attributes"]
    rows = pd.read_csv(rows_path, dtype={a: str for a in attributes}, keep_default_na=False)
    data = pd.DataFrame({"score": rows["flag"].astype(int), "label_value": rows["label"].astype(int)})
    for attribute in attributes:
        data[attribute] = rows[attribute].astype(object)
    crosstab, _ = Group().get_crosstabs(data, attr_cols=attributes)
    bias = Bias()
    disparity_columns = [f"{m}_disparity" for m in METRICS]
    named = bias.get_disparity_predefined_groups(crosstab, original_df=data, ref_groups_dict=spec["reference_groups"],
                                                 input_group_metrics=METRICS)
    major = bias.get_disparity_major_group(crosstab, original_df=data, input_group_metrics=METRICS)
    minimum = bias.get_disparity_min_metric(crosstab, original_df=data, input_group_metrics=METRICS)
    keys = ["attribute_name", "attribute_value"]
    result = {
        "crosstab": records(crosstab, KEEP),
        "named": records(named, keys + disparity_columns),
        "major": records(major, keys + disparity_columns + [f"{m}_ref_group_value" for m in METRICS]),
        "min_metric": records(minimum, keys + disparity_columns + [f"{m}_ref_group_value" for m in METRICS]),
    }
    json.dump(result, open(out_path, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
