"""Build the feature table: one row per (officer in the cohort, as-of date).

Plan: for each batch of officers (one batch unless the store is large), one SQL statement
computes every as-of date at once: the cohort grid, each source's deltas and running sums
(compile.py), the posting on each date, the co-accused network, then derived features.
Batches go to Parquet parts; peer comparison needs every officer of a date, so it runs over
the parts afterwards; the output joins both. Nothing loops over dates or officers in Python.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from openeis.features import catalog, engine
from openeis.features.cohort import cohort_sql
from openeis.features.compile import DefinitionError, FeatureSpec, delta_plan, expand, source_delta_sql
from openeis.features.dates import dates_sql, day_number
from openeis.features.definitions import FeaturesConfig
from openeis.features.network import network_sql
from openeis.features.officer_attributes import ATTRIBUTE_COLUMNS, attribute_select, current_posting_sql
from openeis.features.peers import finish_peers, peer_inputs_sql, peer_stats_sql, peer_table
from openeis.features.sources import source, source_sql
from openeis.store import Store

Progress = Callable[[str, int, int], None]
KEYS = ("officer", "as_of")


@dataclass
class FeaturePlan:
    specs: list[FeatureSpec]
    derived: list[tuple[str, str]]
    network_columns: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return (list(ATTRIBUTE_COLUMNS) + [s.name for s in self.specs] + self.network_columns
                + [name for name, _ in self.derived])


def plan(config: FeaturesConfig) -> FeaturePlan:
    specs: list[FeatureSpec] = []
    seen: set[str] = set()
    for agg in catalog.aggregations(config):
        for spec in expand(agg):
            if spec.name in seen:
                raise DefinitionError(f"feature {spec.name} is defined twice")
            seen.add(spec.name)
            specs.append(spec)
    _, network_cols = network_sql(config.network_years, None)
    known = seen | set(network_cols) | set(ATTRIBUTE_COLUMNS)
    derived = []
    user = {d.name for d in config.derived}
    for d in catalog.derived(config):
        words = set(re.findall(r"[a-z_][a-z0-9_]*", d.expression)) - _SQL_WORDS
        missing = words - known
        if missing:
            if d.name in user:
                raise DefinitionError(f"derived feature {d.name}: unknown {', '.join(sorted(missing))}")
            continue  # a built-in derived feature whose inputs were configured away
        known.add(d.name)
        derived.append((d.name, d.expression))
    return FeaturePlan(specs, derived, network_cols)


_SQL_WORDS = {"nullif", "coalesce", "case", "when", "then", "else", "end", "and", "or", "not",
              "null", "greatest", "least", "abs", "ln", "log", "sqrt", "is", "in", "cast", "as",
              "double", "bigint", "e"}


def batch_sql(p: FeaturePlan, dates: list[date], officer_filter: str | None,
              network_years: int) -> str:
    """One statement: every feature of every as-of date for the officers matching the filter."""
    days = [day_number(d) for d in dates]
    filt = officer_filter.format(col="t.officer_id") if officer_filter else None
    by_source: dict[str, list[FeatureSpec]] = defaultdict(list)
    for spec in p.specs:
        by_source[spec.source].append(spec)
    ctes = [f"dates AS ({dates_sql(dates)})", f"grid AS ({cohort_sql(officer_filter)})"]
    joins, selects = [], []
    for i, (name, specs) in enumerate(by_source.items()):
        src = source(name)
        phases = sorted({s.phase for s in specs})
        src_sql = "\nUNION ALL\n".join(source_sql(src, phase, filt) for phase in phases)
        delta, columns = source_delta_sql(specs, src_sql, days)
        null_cols = ", ".join(f"NULL AS {c}" for c in columns)
        zero_cols = ", ".join(f"{c}" for c in columns)
        windowed = ", ".join(
            f"{'max' if spec.metric == 'days_since' else 'sum'}({c}) OVER w AS {c}"
            for spec in specs for c in spec.columns
        )
        ctes.append(f"d{i} AS (SELECT * FROM ({delta}) x)")
        ctes.append(
            f"c{i} AS (SELECT * FROM (SELECT officer, idx, g, {windowed} FROM ("
            f"SELECT officer, idx, 0 AS g, {zero_cols} FROM d{i} UNION ALL "
            f"SELECT officer, idx, 1 AS g, {null_cols} FROM grid) u "
            "WINDOW w AS (PARTITION BY officer ORDER BY idx RANGE BETWEEN UNBOUNDED PRECEDING "
            "AND CURRENT ROW)) y WHERE g = 1)"
        )
        joins.append(f"LEFT JOIN c{i} ON c{i}.officer = g.officer AND c{i}.idx = g.idx")
        for spec in specs:
            if spec.metric == "days":
                selects.append(f"CAST(coalesce(c{i}.{spec.name}__a, 0) + coalesce(c{i}.{spec.name}__b, 0) * g.day "
                               f"AS BIGINT) AS {spec.name}")
            elif spec.metric == "days_since":
                selects.append(f"CAST(g.day - c{i}.{spec.name} AS BIGINT) AS {spec.name}")
            elif spec.metric == "sum":
                selects.append(f"CAST(coalesce(c{i}.{spec.name}, 0) AS DOUBLE) AS {spec.name}")
            else:
                selects.append(f"CAST(coalesce(c{i}.{spec.name}, 0) AS BIGINT) AS {spec.name}")
    ctes.append(f"cp AS ({current_posting_sql()})")
    joins.append("LEFT JOIN cp ON cp.officer = g.officer AND cp.idx = g.idx")
    net, net_cols = network_sql(network_years, officer_filter)
    ctes.append(f"net AS {net}")
    joins.append("LEFT JOIN net ON net.officer = g.officer AND net.idx = g.idx")
    net_selects = [
        f"coalesce(net.{net_cols[0]}, 0) AS {net_cols[0]}",
        f"net.{net_cols[1]} AS {net_cols[1]}",
        f"coalesce(net.{net_cols[2]}, 0) AS {net_cols[2]}",
    ]
    base = (
        "SELECT g.officer, g.as_of, " + ", ".join(attribute_select() + selects + net_selects)
        + " FROM grid g " + " ".join(joins)
    )
    derived = "".join(f", {expr} AS {name}" for name, expr in p.derived)
    # derived features that read other derived features get one SELECT layer each
    body = f"SELECT *{derived} FROM ({base}) b" if not _derived_chain(p) else _layered(base, p)
    return "WITH " + ",\n".join(ctes) + "\n" + body


def _derived_chain(p: FeaturePlan) -> bool:
    names = {n for n, _ in p.derived}
    return any(set(re.findall(r"[a-z_][a-z0-9_]*", e)) & names for _, e in p.derived)


def _layered(base: str, p: FeaturePlan) -> str:
    sql = f"({base})"
    for name, expr in p.derived:
        sql = f"(SELECT *, {expr} AS {name} FROM {sql} b)"
    return f"SELECT * FROM {sql} z"


def _by_source(p: FeaturePlan) -> dict[str, list[FeatureSpec]]:
    by_source: dict[str, list[FeatureSpec]] = defaultdict(list)
    for spec in p.specs:
        by_source[spec.source].append(spec)
    return by_source


def delta_queries(p: FeaturePlan, dates: list[date], officer_filter: str | None,
                  officer_index: str | None = None):
    """Per source: (specs, its DeltaPlan)."""
    days = [day_number(d) for d in dates]
    filt = officer_filter.format(col="t.officer_id") if officer_filter else None
    out = []
    for name, specs in _by_source(p).items():
        src = source(name)
        phases = sorted({s.phase for s in specs})
        src_sql = "\nUNION ALL\n".join(source_sql(src, phase, filt) for phase in phases)
        out.append((specs, delta_plan(specs, src_sql, days, officer_index)))
    return out


def base_sql(dates: list[date], officer_filter: str | None, network_years: int) -> str:
    """(officer, idx, day, as_of, officer attributes, network) for the cohort grid."""
    net, net_cols = network_sql(network_years, officer_filter)
    return (
        f"WITH dates AS ({dates_sql(dates)}), grid AS ({cohort_sql(officer_filter)}), "
        f"cp AS ({current_posting_sql()}), net AS {net} "
        "SELECT g.officer, g.idx, g.day, g.as_of, " + ", ".join(attribute_select())
        + f", coalesce(net.{net_cols[0]}, 0) AS {net_cols[0]}, net.{net_cols[1]} AS {net_cols[1]}, "
        f"coalesce(net.{net_cols[2]}, 0) AS {net_cols[2]} "
        "FROM grid g LEFT JOIN cp ON cp.officer = g.officer AND cp.idx = g.idx "
        "LEFT JOIN net ON net.officer = g.officer AND net.idx = g.idx "
        "ORDER BY g.officer, g.idx"
    )


def batch_table(store: Store, p: FeaturePlan, dates: list[date], officer_filter: str | None,
                network_years: int):
    """The batch's feature rows as Arrow: deltas from SQL, running sums with numpy.

    Same result as batch_sql (a test compares them); DuckDB's window operator is slow with
    hundreds of running sums, while a prefix sum over a dense (officer, date, column) array
    costs next to nothing. The SQL stays the portable definition.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    base = engine.query_arrow(store, base_sql(dates, officer_filter, network_years))
    officers = pc.unique(base.column("officer"))
    n_off, n_dates = len(officers), len(dates)
    grid_oi = pc.index_in(base.column("officer"), value_set=officers).to_numpy()
    grid_idx = base.column("idx").to_numpy()
    grid_day = base.column("day").to_numpy().astype(np.float64)
    columns = {name: base.column(name) for name in ("officer", "as_of", *ATTRIBUTE_COLUMNS)}
    # officer -> row of the dense arrays, joined in SQL on source rows: looking up the
    # officer string of every breakpoint in Python cost more than the queries themselves
    index_name = "_openeis_officer_index"
    engine.register(store, index_name, pa.table({"officer": officers, "oi": pa.array(np.arange(n_off))}))
    try:
        plans = delta_queries(p, dates, officer_filter, index_name)
        # The next source's query runs in DuckDB (which releases the GIL) while numpy adds up
        # this one's breakpoints: the two overlap on 2 cores. One query at a time on the store.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(engine.query_arrow, store, plans[0][1].points_sql) if plans else None
            for i, (specs, dplan) in enumerate(plans):
                points = pending.result()
                pending = (pool.submit(engine.query_arrow, store, plans[i + 1][1].points_sql)
                           if i + 1 < len(plans) else None)
                _running_columns(points, specs, dplan, columns, n_off, n_dates, grid_oi, grid_idx, grid_day)
                del points
    finally:
        store.unregister(index_name)
    for name in p.network_columns:
        columns[name] = base.column(name)
    return pa.table(columns)


def _running_columns(points, specs, dplan, columns, n_off, n_dates, grid_oi, grid_idx, grid_day) -> None:
    """One source's breakpoints -> its feature columns on the grid (added to `columns`)."""
    import numpy as np
    import pyarrow as pa

    size = n_off * n_dates
    key = points.column("oi").to_numpy().astype(np.int64, copy=False) * n_dates + points.column("idx").to_numpy()
    cache: dict[str, np.ndarray] = {}

    def col(name: str) -> np.ndarray:
        if name not in cache:
            data = points.column(name).to_numpy(zero_copy_only=False)
            cache[name] = data.astype(bool if name.startswith("k") else np.float64, copy=False)
        return cache[name]

    running: dict[str, np.ndarray] = {}
    for name, fn, vcol, kcol in dplan.terms:
        v, k = col(vcol), col(kcol)
        mask = k & ~np.isnan(v)  # a value is NULL at the breakpoints of other slots
        if fn == "sum":
            dense = np.bincount(key[mask], weights=v[mask], minlength=size).reshape(n_off, n_dates)
            running[name] = np.cumsum(dense, axis=1)[grid_oi, grid_idx]
        else:  # max: the latest occurrence so far
            dense = np.full(size, -np.inf)
            np.maximum.at(dense, key[mask], v[mask])
            running[name] = np.maximum.accumulate(dense.reshape(n_off, n_dates), axis=1)[grid_oi, grid_idx]
    for spec in specs:
        if spec.metric == "days_since":
            value = grid_day - running[spec.name]
            columns[spec.name] = pa.array(value, mask=~np.isfinite(value)).cast(pa.int64())
        elif spec.metric == "days":
            value = running[f"{spec.name}__a"] + running[f"{spec.name}__b"] * grid_day
            columns[spec.name] = pa.array(np.rint(value).astype(np.int64))
        elif spec.metric == "sum":
            columns[spec.name] = pa.array(running[spec.name], type=pa.float64())
        else:
            columns[spec.name] = pa.array(np.rint(running[spec.name]).astype(np.int64))


def derived_sql(relation: str, p: FeaturePlan) -> str:
    if _derived_chain(p):
        return _layered(f"SELECT * FROM {relation}", p)
    derived = "".join(f", {expr} AS {name}" for name, expr in p.derived)
    return f"SELECT *{derived} FROM {relation} b"


def officer_batches(store: Store, n_dates: int, requested: int) -> list[str | None]:
    """Officer-range filters ({col} placeholder). Contiguous pseudonym ranges keep it portable."""
    n = int(store.scalar("SELECT count(*) FROM officers") or 0)
    k = requested or max(1, -(-n * n_dates // 1_500_000))
    if k <= 1 or n == 0:
        return [None]
    bounds = [row[0] for row in store.query(
        f"SELECT officer_id FROM (SELECT officer_id, row_number() OVER (ORDER BY officer_id) AS r "
        f"FROM officers) x WHERE (r - 1) % {-(-n // k)} = 0 ORDER BY officer_id")]
    quoted = [b.replace("'", "''") for b in bounds]
    filters = []
    for i in range(len(quoted)):
        parts = []
        if i > 0:
            parts.append(f"{{col}} >= '{quoted[i]}'")
        if i + 1 < len(quoted):
            parts.append(f"{{col}} < '{quoted[i + 1]}'")
        filters.append(" AND ".join(parts) or None)
    return filters


def build_features(
    store: Store,
    dates: list[date],
    out: Path,
    config: FeaturesConfig | None = None,
    progress: Progress | None = None,
    work_dir: Path | None = None,
) -> dict:
    """Write the feature table for these as-of dates to `out` (Parquet). Returns a summary."""
    config = config or FeaturesConfig()
    dates = sorted(set(dates))
    p = plan(config)
    step = progress or (lambda *_: None)
    scratch = Path(tempfile.mkdtemp(prefix="openeis-features-", dir=work_dir))
    try:
        engine.configure(store, config.memory_limit, scratch)
        batches = officer_batches(store, len(dates), config.officer_batches)
        parts = []
        total = len(batches) + 2
        for i, filt in enumerate(batches):
            step(f"features: officers batch {i + 1}/{len(batches)}", i, total)
            part = scratch / f"part-{i:04d}.parquet"
            if config.running_sums == "sql":
                engine.query_to_parquet(store, batch_sql(p, dates, filt, config.network_years), part)
            else:
                table = batch_table(store, p, dates, filt, config.network_years)
                engine.register(store, "_openeis_batch", table)
                engine.query_to_parquet(store, derived_sql("_openeis_batch", p), part)
                store.unregister("_openeis_batch")
                del table
            parts.append(part)
        relation = engine.parquet_relation(parts)
        step("features: peer comparison", len(batches), total)
        peer_features = [f for f in config.peer_features if f in p.names]
        exposure = config.peer_exposure if config.peer_exposure in p.names else None
        if peer_features and exposure:
            inputs = engine.query_arrow(store, peer_inputs_sql(relation, peer_features, exposure))
            if config.running_sums == "client" and not any(
                    inputs.column(c).null_count for c in (exposure, *peer_features)):
                peers = peer_table(inputs, peer_features, exposure, config.peer_min_size)
            else:  # the portable SQL (window functions), also for inputs with NULLs
                stats = engine.query_arrow(
                    store, peer_stats_sql(relation, peer_features, exposure, config.peer_min_size))
                peers = finish_peers(stats, peer_features)
            del inputs
            engine.register(store, "_openeis_peers", peers)
            peer_cols = [c for c in peers.column_names if c not in KEYS]
            select = ", ".join(f"q.{c}" for c in peer_cols)
            final = (f"SELECT f.*, {select} FROM {relation} f LEFT JOIN _openeis_peers q "
                     "ON q.officer = f.officer AND q.as_of = f.as_of")
        else:
            final = f"SELECT * FROM {relation} f"
        step("features: writing", len(batches) + 1, total)
        out.parent.mkdir(parents=True, exist_ok=True)
        engine.query_to_parquet(store, final, out)
        if peer_features and exposure:
            store.unregister("_openeis_peers")
        meta = pq.read_metadata(out)
        step("features: done", total, total)
        return {"rows": meta.num_rows, "columns": meta.num_columns, "dates": len(dates),
                "batches": len(batches), "path": str(out)}
    finally:
        engine.restore(store)
        shutil.rmtree(scratch, ignore_errors=True)


def features_table(store: Store, dates: list[date], config: FeaturesConfig | None = None):
    """The feature table as Arrow, sorted by (as_of, officer) (for tests and small stores)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.parquet"
        build_features(store, dates, path, config)
        return pq.read_table(path).sort_by([("as_of", "ascending"), ("officer", "ascending")])
