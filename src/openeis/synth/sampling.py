"""Random streams and vectorised sampling helpers.

Each generation step draws from its own named stream, derived from the seed and the
step's name, so adding a step never changes what another step draws.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def lognormal_mean_one(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(-(sigma**2) / 2.0, sigma, n)


def categorical(
    rng: np.random.Generator, probs: Sequence[float] | np.ndarray, n: int
) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(p / p.sum())
    out = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(out, len(p) - 1).astype(np.int16)


def categorical_by_group(
    rng: np.random.Generator, group: np.ndarray, table: np.ndarray
) -> np.ndarray:
    """Row i drawn from the distribution table[group[i]] (rows of table are weights)."""
    table = np.asarray(table, dtype=np.float64)
    u = rng.random(len(group))
    out = np.zeros(len(group), dtype=np.int16)
    for g in np.unique(group):
        weights = table[g]
        if weights.sum() <= 0:
            continue
        cdf = np.cumsum(weights / weights.sum())
        m = group == g
        out[m] = np.minimum(np.searchsorted(cdf, u[m], side="right"), len(cdf) - 1)
    return out


def integers(rng: np.random.Generator, low, high, size: int | None = None) -> np.ndarray:
    """Uniform integers in [low, high] inclusive; low and high may be arrays.

    With scalar bounds, `size` gives the number of draws.
    """
    if np.ndim(low) == 0 and np.ndim(high) == 0:
        if size is None:
            raise ValueError("size is needed with scalar bounds")
        return rng.integers(int(low), max(int(high), int(low)) + 1, size, dtype=np.int64)
    low = np.asarray(low, dtype=np.int64)
    high = np.asarray(high, dtype=np.int64)
    n = np.broadcast(low, high).size
    span = np.maximum(high - low + 1, 1)
    return low + (rng.random(n) * span).astype(np.int64)


def durations(
    rng: np.random.Generator, mix: Sequence[tuple[float, int, int]], n: int
) -> np.ndarray:
    """Days from a mixture of (share, min, max) uniform ranges."""
    component = categorical(rng, [m[0] for m in mix], n)
    lows = np.array([m[1] for m in mix])[component]
    highs = np.array([m[2] for m in mix])[component]
    return integers(rng, lows, highs)


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per parent: (parent of each child, child's rank within its parent)."""
    counts = np.asarray(counts, dtype=np.int64)
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(parent)) - starts[parent]
    return parent, rank


def weighted_sample(
    rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int
) -> np.ndarray:
    """k distinct candidates, chosen with probability rising with weight (Efraimidis-Spirakis)."""
    if k <= 0 or len(candidates) == 0:
        return candidates[:0]
    w = np.maximum(np.asarray(weights, dtype=np.float64), 1e-12)
    keys = np.log(rng.random(len(candidates))) / w
    k = min(k, len(candidates))
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(candidates[top])


def first_of_runs(sorted_keys: np.ndarray) -> np.ndarray:
    """Boolean: the first element of each run of equal keys."""
    out = np.ones(len(sorted_keys), dtype=bool)
    if len(sorted_keys) > 1:
        out[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return out


def member(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """values isin candidates, fast when candidates are few (no sort of values)."""
    values = np.asarray(values)
    if len(candidates) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    pool = np.unique(candidates)
    found = np.minimum(np.searchsorted(pool, values), len(pool) - 1)
    return pool[found] == values


def stable_order(keys: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Stable order by non-negative integer keys, with 16-bit radix passes (O(n))."""
    keys = np.asarray(keys)
    if order is not None:
        keys = keys[order]
    if len(keys) and keys.max() >= 2**16:
        low = stable_order((keys & 0xFFFF).astype(np.uint16))
        high = stable_order(keys[low] >> 16)
        result = low[high]
    else:
        result = np.argsort(keys.astype(np.uint16), kind="stable")
    return result if order is None else order[result]


def time_order(days: np.ndarray, first_day: int, seconds: np.ndarray | None = None) -> np.ndarray:
    """Stable order by day (then second of day); ties keep their current order."""
    order = None
    if seconds is not None:
        order = stable_order(np.asarray(seconds, dtype=np.int64) % 86_400)
    return stable_order(np.asarray(days, dtype=np.int64) - first_day, order)


GAP_SCALE = float(2**20)


def sorted_uniforms(rng: np.random.Generator, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per parent: (parent of each draw, uniform in [0, 1) ascending per parent).

    Order statistics from exponential spacings, in integers so that one cumulative sum
    over all parents stays exact: no sort needed.
    """
    counts = np.asarray(counts, dtype=np.int64)
    parent, rank = expand(counts)
    size = int(counts.sum() + len(counts))
    gaps = np.floor(rng.exponential(GAP_SCALE, size)).astype(np.int64) + 1
    cs = np.cumsum(gaps)
    last = np.cumsum(counts + 1) - 1  # index of each parent's final gap
    before = last - (counts + 1)  # index of the previous parent's final gap (-1: none)
    base = np.where(before >= 0, cs[np.maximum(before, 0)], 0)
    total = (cs[last] - base).astype(np.float64)
    u = (cs[before[parent] + 1 + rank] - base[parent]) / total[parent]
    return parent, np.minimum(u, np.nextafter(1.0, 0.0))
