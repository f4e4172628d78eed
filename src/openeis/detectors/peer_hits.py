"""Turning a peer test's rows into hits with their reasons, and the workload note."""

from __future__ import annotations

import pandas as pd


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
