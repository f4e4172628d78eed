"""Turning a peer test's rows into hits with their reasons, and the workload note."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from openeis.detectors.base import Context, Result
from openeis.detectors.hits import Hit, evidence


def workload_sentence(row, what_exposure: str, exposure_col: str) -> str | None:
    """The sentence that says a hit is mostly workload, or None."""
    if not row["mostly_workload"]:
        return None
    return (f"Most of the difference from peers is workload: {row[exposure_col]:,.0f} "
            f"{what_exposure}, against about {row['peer_exposure']:,.0f} for a peer; adjusted for "
            "that, the excess is smaller, though still beyond the false-discovery control.")


def with_peer_exposure(frame: pd.DataFrame, exposure: str) -> pd.DataFrame:
    peers = frame.groupby("peer_group")["officer"].transform("count") - 1
    total = frame.groupby("peer_group")[exposure].transform("sum") - frame[exposure]
    frame = frame.copy()
    frame["peer_exposure"] = total / peers.clip(lower=1)
    return frame


def peer_measures(row, count: str, exposure: str) -> dict:
    return {count: int(row[count]), exposure: float(row[exposure]), "expected": round(float(row["expected"]), 3),
            "peer_mean": round(float(row["peer_mean"]), 3), "peers": int(row["peers"]),
            "peer_group": row["peer_group"], "p": float(row["p"]), "q": float(row["q"]),
            "workload_share": round(float(row["workload"]), 3)}


def peer_result(ctx: Context, name: str, tested: pd.DataFrame, records_for: Callable[[list], dict],
                describe: Callable[[object], str], count: str, exposure: str, what_exposure: str,
                table: str) -> Result:
    """The Result of a peer test (`peer_count_test` rows with the peers' exposure): a hit per
    row it marked, with `describe(row)`, the false-discovery sentence, the workload note when
    it applies and the evidence `records_for(officers)` finds in `table`; and how many raw hits
    the exposure adjustment cleared."""
    cfg = ctx.config
    prompt_kind = ctx.settings(name).prompt_kind
    hit_rows = tested[tested["hit"]]
    records = records_for(list(hit_rows["officer"]))
    hits = []
    for _, row in hit_rows.iterrows():
        sentences = [describe(row),
                     f"Beyond chance across all officers tested (false-discovery rate {cfg.fdr:g})."]
        note = workload_sentence(row, what_exposure, exposure)
        if note:
            sentences.append(note)
        ids = records.get(row["officer"], [])
        hits.append(Hit(row["officer"], name, prompt_kind, sentences,
                        evidence(ids, table, cfg.max_evidence), len(ids), peer_measures(row, count, exposure)))
    cleared = int((tested["raw_hit"] & ~tested["hit"]).sum())
    return Result(name, "peer_fdr", len(tested), hits,
                  {"workload_cleared": cleared, "mostly_workload": int(hit_rows["mostly_workload"].sum())})
