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


def peer_inputs_sql(relation: str, features: list[str], exposure: str) -> str:
    """The rows that have a peer group, with the columns peer comparison reads."""
    cols = ", ".join(["officer", "as_of", "peer_unit", "posting_role", exposure, *features])
    return f"SELECT {cols} FROM {relation} WHERE peer_unit IS NOT NULL AND posting_role IS NOT NULL"


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
    return f"""
WITH b AS ({peer_inputs_sql(relation, features, exposure)}),
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
    kk_all = np.minimum(k[todo], 3000).astype(int)
    ll_all = lam[todo]
    # sum the pmf from k upward, far enough past max(k, lam) for the tail to vanish. Rows are
    # grouped by the width they need (rounded up to a multiple of 32): a chunk-wide maximum
    # made every row as wide as the widest (a few hundred terms for day counts), which was
    # most of the peer stage. The extra terms of a wider row are below double precision. Every
    # row of a bucket sums exactly the bucket's width, so a score depends on its row alone, to
    # the last bit, whichever rows share its chunk (other dates, other officers of a build).
    need = np.ceil(np.maximum(ll_all - kk_all, 0) + 12 * np.sqrt(ll_all) + 40).astype(int)
    # From k on, each term is at most r = lam / (k + 1) times the one before: when r <= 1/2,
    # m terms with r^m <= e^-40 leave a remainder below 1e-17 of the sum (under double
    # precision), often far fewer terms than the bound above.
    r = ll_all / (kk_all + 1)
    with np.errstate(divide="ignore"):
        geometric = np.ceil(40 / -np.log(np.minimum(r, 0.5))).astype(int) + 1
    need = np.where(r <= 0.5, np.minimum(need, geometric), need)
    bucket = -(-need // 32) * 32
    # chunks of ~500k terms: the temporaries stay in cache (2x faster than 20M-term chunks)
    for b in np.unique(bucket):
        rows = np.flatnonzero(bucket == b)
        for chunk in np.array_split(rows, max(1, len(rows) * int(b) // 500_000)):
            if len(chunk) == 0:
                continue
            kk, ll = kk_all[chunk], ll_all[chunk]
            width = int(b)
            js = kk[:, None] + np.arange(width)[None, :]
            js = np.minimum(js, len(_LGAMMA) - 1)
            logp = -ll[:, None] + js * np.log(ll)[:, None] - _LGAMMA[js]
            top = logp.max(axis=1)
            log_tail = top + np.log(np.exp(logp - top[:, None]).sum(axis=1))
            out[todo[chunk]] = np.maximum(-log_tail / math.log(10.0), 0.0)
    return out


def finish_peers(stats: pa.Table, features: list[str]) -> pa.Table:
    """Replace the k_i / lam_i helper columns by the Poisson exceedance scores."""
    columns = {name: stats.column(name) for name in stats.column_names
               if not (name.startswith("k_") or name.startswith("lam_"))}
    for i, f in enumerate(features):
        k = stats.column(f"k_{i}").to_numpy(zero_copy_only=False)
        lam = stats.column(f"lam_{i}").to_numpy(zero_copy_only=False)
        columns[f"{f}_peer_poisson"] = poisson_column(k.astype(float), lam.astype(float))
    return pa.table(columns)


def poisson_column(k: np.ndarray, lam: np.ndarray) -> pa.Array:
    score = poisson_exceedance(k, lam)
    return pa.array(score, mask=np.isnan(score))


def peer_table(inputs: pa.Table, features: list[str], exposure: str, min_size: int) -> pa.Table:
    """peer_stats_sql + finish_peers computed with numpy, from peer_inputs_sql's rows."""
    stats, tails = peer_stats(inputs, features, exposure, min_size)
    return pa.table({name: stats.column(name) for name in stats.column_names}
                    | {name: poisson_column(k, lam) for name, (k, lam) in tails.items()})


def peer_stats(inputs: pa.Table, features: list[str], exposure: str, min_size: int):
    """peer_table without the Poisson scores: (the other columns, {score column: (x, lambda)}).

    The scores are most of the cost and depend on their row only, so a caller can compute
    them a slice at a time (poisson_column), e.g. while the previous slice is written.
    Same columns and values as the SQL (a test compares the two routes): median as
    quantile_cont (lo + 0.5 (hi - lo)), percent_rank = (rank - 1) / (n - 1) with ties sharing
    the lowest rank. One sort per feature instead of a window per feature over the whole
    table, which was most of DuckDB's time in the peer stage. Needs features and exposure
    without NULLs (the caller uses the SQL otherwise).
    """
    import pyarrow.compute as pc

    n_rows = inputs.num_rows
    key = np.zeros(n_rows, dtype=np.int64)
    for name in ("as_of", "peer_unit", "posting_role"):
        codes = pc.dictionary_encode(inputs.column(name).combine_chunks()).indices.to_numpy()
        key = key * (int(codes.max(initial=0)) + 1) + codes
    _, gid = np.unique(key, return_inverse=True)
    gid = gid.reshape(-1)
    size = np.bincount(gid)
    start = np.cumsum(size) - size  # first row of each group in (group, x) order
    n = size[gid]
    ok = n >= min_size
    e = inputs.column(exposure).to_numpy(zero_copy_only=False).astype(np.float64)
    se = np.bincount(gid, weights=e)[gid]
    columns: dict[str, pa.Array] = {"officer": inputs.column("officer"), "as_of": inputs.column("as_of"),
                                    "peer_group_size": pa.array(n.astype(np.int64))}
    tails = {}
    pos = np.arange(n_rows)
    for f in features:
        x = inputs.column(f).to_numpy(zero_copy_only=False).astype(np.float64)
        order = np.lexsort((x, gid))
        xs, gs = x[order], gid[order]
        lo = start + (size - 1) // 2
        hi = start + size // 2
        median = (xs[lo] + 0.5 * (xs[hi] - xs[lo]))[gid]
        ratio = (x + 1.0) / (median + 1.0)
        # rank: the first position of the run of equal values within the group
        new_run = np.ones(n_rows, dtype=bool)
        new_run[1:] = (gs[1:] != gs[:-1]) | (xs[1:] != xs[:-1])
        run_start = np.maximum.accumulate(np.where(new_run, pos, 0))
        pct = np.empty(n_rows)
        pct[order] = (run_start - start[gs]) / np.maximum(size[gs] - 1, 1)
        sx = np.bincount(gid, weights=x)[gid]
        lam_ok = ok & (e > 0) & (se - e > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(lam_ok, e * (sx - x + 0.5) / (se - e), np.nan)
        columns[f"{f}_peer_ratio"] = pa.array(ratio, mask=~ok)
        columns[f"{f}_peer_pct"] = pa.array(pct, mask=~ok)
        tails[f"{f}_peer_poisson"] = (x, lam)
    return pa.table(columns), tails
