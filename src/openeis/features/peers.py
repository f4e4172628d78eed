"""Peer comparison: the officer against officers in the same unit and role on the same date.

For each peer feature x (a count over a window) and the exposure e (shifts worked):
- ``x_peer_ratio`` = (x + 1) / (peer median of x + 1): add-one, so rare events whose peer
  median is 0 still separate 0, 1 and 5;
- ``x_peer_pct`` = percent_rank of x in the group (share of peers strictly below, 0..1);
- ``x_peer_poisson`` = -log10 P(X >= x) for X ~ Poisson(lambda), lambda = e x (S + 0.5) / E,
  where S and E are the other group members' total x and exposure (the officer left out,
  half an event added so a group with no events gives a finite score). 0 when x = 0; NULL
  when the officer's or the group's exposure is 0 or unknown. 2 means "as many as this
  happens by chance 1 time in 100 at the peers' rate for this much work".
Groups smaller than `peer_min_size` get NULL.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

KEY = ("as_of", "peer_unit", "posting_role")


def peer_stats_sql(relation: str, features: list[str], exposure: str, min_size: int) -> str:
    part = "PARTITION BY b.as_of, b.peer_unit, b.posting_role"
    grp_cols = ", ".join(
        f"quantile_cont({f}, 0.5) AS m_{i}, sum({f}) AS s_{i}" for i, f in enumerate(features)
    )
    out = []
    for i, f in enumerate(features):
        ok = f"g.n >= {min_size}"
        out.append(f"CASE WHEN {ok} THEN (b.{f} + 1.0) / (g.m_{i} + 1.0) END AS {f}_peer_ratio")
        out.append(f"CASE WHEN {ok} THEN percent_rank() OVER ({part} ORDER BY b.{f}) END AS {f}_peer_pct")
        out.append(f"CAST(b.{f} AS DOUBLE) AS k_{i}")
        out.append(f"CASE WHEN {ok} AND b.{exposure} > 0 AND g.se - b.{exposure} > 0 THEN "
                   f"b.{exposure} * (g.s_{i} - b.{f} + 0.5) / (g.se - b.{exposure}) END AS lam_{i}")
    cols = ", ".join(["officer", "as_of", "peer_unit", "posting_role", exposure, *features])
    return f"""
WITH b AS (SELECT {cols} FROM {relation} WHERE peer_unit IS NOT NULL AND posting_role IS NOT NULL),
g AS (SELECT as_of, peer_unit, posting_role, count(*) AS n, sum({exposure}) AS se, {grp_cols}
      FROM b GROUP BY as_of, peer_unit, posting_role)
SELECT b.officer, b.as_of, g.n AS peer_group_size, {', '.join(out)}
FROM b JOIN g ON b.as_of = g.as_of AND b.peer_unit = g.peer_unit AND b.posting_role = g.posting_role
"""


_LGAMMA = np.array([math.lgamma(j + 1.0) for j in range(4096)])  # log j!


def poisson_exceedance(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """-log10 P(X >= k), X ~ Poisson(lam); 0 where k <= 0, NaN where lam is NaN."""
    k = np.asarray(k, dtype=float)
    lam = np.asarray(lam, dtype=float)
    out = np.full(k.shape, np.nan)
    valid = ~np.isnan(lam) & ~np.isnan(k)
    out[valid & (k <= 0)] = 0.0
    todo = np.flatnonzero(valid & (k > 0) & (lam > 0))
    for chunk in np.array_split(todo, max(1, len(todo) // 200_000)):
        if len(chunk) == 0:
            continue
        kk = np.minimum(k[chunk], 3000).astype(int)
        ll = lam[chunk]
        # sum the pmf from k upward, far enough past max(k, lam) for the tail to vanish
        width = int(np.ceil(np.max(np.maximum(ll - kk, 0) + 12 * np.sqrt(ll) + 40)))
        js = kk[:, None] + np.arange(width)[None, :]
        js = np.minimum(js, len(_LGAMMA) - 1)
        logp = -ll[:, None] + js * np.log(ll)[:, None] - _LGAMMA[js]
        top = logp.max(axis=1)
        log_tail = top + np.log(np.exp(logp - top[:, None]).sum(axis=1))
        out[chunk] = np.maximum(-log_tail / math.log(10.0), 0.0)
    return out


def finish_peers(stats: pa.Table, features: list[str]) -> pa.Table:
    """Replace the k_i / lam_i helper columns by the Poisson exceedance scores."""
    columns = {name: stats.column(name) for name in stats.column_names
               if not (name.startswith("k_") or name.startswith("lam_"))}
    for i, f in enumerate(features):
        k = stats.column(f"k_{i}").to_numpy(zero_copy_only=False)
        lam = stats.column(f"lam_{i}").to_numpy(zero_copy_only=False)
        score = poisson_exceedance(np.nan_to_num(k, nan=np.nan), lam.astype(float))
        columns[f"{f}_peer_poisson"] = pa.array(score, mask=np.isnan(score))
    return pa.table(columns)
