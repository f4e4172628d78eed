"""Peer-relative tests shared by the detectors: exposure-adjusted expectations from peers
(leave-one-out), Poisson tail p-values, and Benjamini-Hochberg control across officers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, poisson


def leave_one_out(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Sum of `column` over each officer's peer group, the officer left out."""
    return (frame.groupby("peer_group")[column].transform("sum") - frame[column]).to_numpy(float)


def peer_rate(frame: pd.DataFrame, count: str, exposure: str) -> np.ndarray:
    """Peers' events per unit of exposure, shrunk a little ((k + 0.5) / (e + 1)) so that a
    peer group with no events still gives a small positive rate, never zero."""
    return (leave_one_out(frame, count) + 0.5) / (leave_one_out(frame, exposure) + 1.0)


def poisson_p(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """P(X >= observed) for X ~ Poisson(expected)."""
    observed = np.asarray(observed, float)
    return np.where(observed > 0, poisson.sf(observed - 1, np.maximum(expected, 1e-12)), 1.0)


def bh_adjusted(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) across the officers tested."""
    p = np.clip(np.asarray(p, float), 0.0, 1.0)
    return false_discovery_control(p, method="bh") if len(p) else p


def peer_count_test(frame: pd.DataFrame, count: str, exposure: str, fdr: float, min_count: int,
                    workload_share: float, expected: np.ndarray | None = None) -> pd.DataFrame:
    """Exposure-adjusted test of one count per officer against the officer's peers.

    `frame` has officer, peer_group, `count` and `exposure`, one row per officer tested.
    Adds: expected (exposure x peers' rate), peer_mean (the peers' average count, ignoring
    exposure), p, q (BH), hit, raw_hit (what a test on counts alone would say), workload
    (share of the excess over the peer average that the officer's exposure explains) and
    mostly_workload. `expected`, when given, replaces exposure x the peer group's rate (a
    caller that knows better peers for part of the period, e.g. unit by month).
    """
    out = frame.copy()
    rate = peer_rate(out, count, exposure)
    peers = out.groupby("peer_group")["officer"].transform("count").to_numpy(float) - 1
    out["expected"] = out[exposure].to_numpy(float) * rate if expected is None else expected
    out["peer_rate"] = rate
    out["peer_mean"] = leave_one_out(out, count) / np.maximum(peers, 1)
    out["peers"] = peers.astype(int)
    out["p"] = poisson_p(out[count].to_numpy(), out["expected"].to_numpy())
    out["q"] = bh_adjusted(out["p"].to_numpy())
    enough = out[count].to_numpy() >= min_count
    out["hit"] = enough & (out["q"].to_numpy() <= fdr)
    raw_q = bh_adjusted(poisson_p(out[count].to_numpy(), np.maximum(out["peer_mean"].to_numpy(), 0.5)))
    out["raw_hit"] = enough & (raw_q <= fdr)
    excess = out[count].to_numpy(float) - out["peer_mean"].to_numpy()
    explained = out["expected"].to_numpy() - out["peer_mean"].to_numpy()
    share = np.where(excess > 0, np.clip(explained / np.where(excess > 0, excess, 1), 0, 1), 0.0)
    out["workload"] = share
    out["mostly_workload"] = share >= workload_share
    return out


def repeat_p(top: np.ndarray, subjects: np.ndarray, repeat_share: np.ndarray) -> np.ndarray:
    """P(some subject is looked up `top` times or more) when each look-up repeats the
    previous subject with probability `repeat_share` (peers' case-work pattern): a union
    bound over the officer's subjects, subjects x share^(top - 1)."""
    share = np.clip(np.asarray(repeat_share, float), 1e-6, 0.999)
    top = np.asarray(top, float)
    p = np.maximum(np.asarray(subjects, float), 1.0) * np.power(share, np.maximum(top - 1, 0))
    return np.clip(np.where(top > 1, p, 1.0), 0.0, 1.0)
