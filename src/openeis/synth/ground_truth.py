"""Ground truth, written to OUT/ground_truth/ (ingestion of OUT never reads it).

- officers.csv: raw officer_id, latent propensity and activity, ethnicity, gender and
  the planted anomaly kinds (";"-separated, empty for none);
- anomalies.csv: officer_id, kind, table, record_id, description: every planted record;
- effects.json: options, seed, bias specs, row counts and realised effect sizes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openeis.synth import columns as C
from openeis.synth.anomalies import AnomalyPlan
from openeis.synth.options import SynthOptions
from openeis.synth.profiles import ANOMALY_KINDS, ETHNIC_GROUPS, GENDERS
from openeis.synth.roster import Roster
from openeis.synth.writer import TableSink

GROUND_TRUTH_DIR = "ground_truth"
GROUND_TRUTH_FILES = ("officers.csv", "anomalies.csv", "effects.json")


def officers_truth(roster: Roster, plan: AnomalyPlan) -> pa.Table:
    kinds = plan.officer_kinds()
    # Each kind contributes "kind;" or ""; the trailing ";" is trimmed.
    empty = pa.repeat(pa.scalar(""), roster.n)
    parts = [
        pc.if_else(pa.array(mask), f"{kind};", empty)
        for kind, mask in zip(ANOMALY_KINDS, kinds, strict=True)
    ]
    anomalies = pc.utf8_rtrim(pc.binary_join_element_wise(*parts, ""), characters=";")
    return pa.table(
        {
            "officer_id": roster.ids,
            "propensity": C.floats(np.round(roster.propensity, 4)),
            "activity": C.floats(np.round(roster.activity, 4)),
            "ethnicity": C.codes(ETHNIC_GROUPS, roster.ethnicity),
            "gender": C.codes(GENDERS, roster.gender),
            "anomalies": anomalies,
        }
    )


def write_ground_truth(
    sink: TableSink,
    out_dir: Path,
    options: SynthOptions,
    roster: Roster,
    plan: AnomalyPlan,
    effects: dict,
    counts: dict[str, int],
) -> int:
    """Write the three files; returns the number of planted anomaly records."""
    directory = Path(out_dir) / GROUND_TRUTH_DIR
    directory.mkdir(parents=True, exist_ok=True)
    anomalies = plan.anomalies_table()
    sink.put("officers", officers_truth(roster, plan), directory, "csv", count=False)
    sink.put("anomalies", anomalies, directory, "csv", count=False)
    document = {
        "generator": "openeis.synth",
        "seed": options.seed,
        "options": options.model_dump(mode="json"),
        "biases": options.bias_strings(),
        "snapshot": options.end.isoformat(),
        "counts": counts,
        "anomalies": {
            kind: int(mask.sum())
            for kind, mask in zip(ANOMALY_KINDS, plan.officer_kinds(), strict=True)
        },
        "anomaly_records": anomalies.num_rows,
        "realised": effects,
    }
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n"
    (directory / "effects.json").write_text(text, encoding="utf-8")
    return anomalies.num_rows
