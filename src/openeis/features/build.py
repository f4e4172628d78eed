"""Build the feature table: one row per (officer in the cohort, as-of date).

Plan: for each batch of officers (one batch unless the store is large), every as-of date at
once: the cohort grid with the posting on each date and the co-accused network (SQL), each
source's running sums (compile.py defines them; by default fanout.py adds them up in numpy
from one SQL row per source row), then derived features. Peer comparison needs every officer
of a date, so it runs once all batches are done, from the few columns it reads; batches wait
in a scratch file and the output is written once, batch by batch, with the peer columns.
Nothing loops over dates or officers in Python.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from openeis.features import catalog, engine
from openeis.features.cohort import cohort_sql
from openeis.features.compile import DefinitionError, FeatureSpec, days_since_limited_sql, expand, source_delta_sql
from openeis.features.dates import dates_sql, day_number
from openeis.config.features import FeaturesConfig
from openeis.features.fanout import RowPlan, row_plan, running_columns
from openeis.features.network import network_sql
from openeis.features.officer_attributes import ATTRIBUTE_COLUMNS, attribute_select, current_posting_sql
from openeis.features.peers import finish_peers, peer_stats, peer_stats_sql
from openeis.features.sources import NO_VERSIONS, source, source_sql, versioned_tables
from openeis.schema import TABLES
from openeis.sql_text import literal
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
              network_years: int, versions: frozenset[str] = NO_VERSIONS) -> str:
    """One statement: every feature of every as-of date for the officers matching the filter."""
    days = [day_number(d) for d in dates]
    filt = officer_filter.format(col="t.officer_id") if officer_filter else None
    by_source: dict[str, list[FeatureSpec]] = defaultdict(list)
    for spec in p.specs:
        by_source[spec.source].append(spec)
    ctes = [f"dates AS ({dates_sql(dates)})", f"grid AS ({cohort_sql(officer_filter, versions)})"]
    joins, selects = [], []
    for i, (name, specs) in enumerate(by_source.items()):
        src = source(name)
        phases = sorted({s.phase for s in specs})
        src_sql = "\nUNION ALL\n".join(source_sql(src, phase, filt, versions) for phase in phases)
        delta, columns = source_delta_sql(specs, src_sql, days, src.table in versions)
        limited = days_since_limited_sql(specs, src_sql)
        if limited:
            ctes.append(f"l{i} AS ({limited})")
            joins.append(f"LEFT JOIN l{i} ON l{i}.officer = g.officer AND l{i}.idx = g.idx")
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
                selects.append(f"CAST(g.day - greatest(c{i}.{spec.name}, l{i}.{spec.name}) AS BIGINT) AS {spec.name}")
            elif spec.metric == "sum":
                selects.append(f"CAST(coalesce(c{i}.{spec.name}, 0) AS DOUBLE) AS {spec.name}")
            else:
                selects.append(f"CAST(coalesce(c{i}.{spec.name}, 0) AS BIGINT) AS {spec.name}")
    ctes.append(f"cp AS ({current_posting_sql(versions)})")
    joins.append("LEFT JOIN cp ON cp.officer = g.officer AND cp.idx = g.idx")
    net, net_cols = network_sql(network_years, officer_filter, versions)
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
                  officer_index: str | None = None,
                  versions: frozenset[str] = NO_VERSIONS) -> list[tuple[list[FeatureSpec], RowPlan]]:
    """Per source: (specs, its RowPlan: the SQL giving one row per source row)."""
    filt = officer_filter.format(col="t.officer_id") if officer_filter else None
    out = []
    for name, specs in _by_source(p).items():
        src = source(name)
        phases = sorted({s.phase for s in specs})
        src_sql = "\nUNION ALL\n".join(source_sql(src, phase, filt, versions) for phase in phases)
        out.append((specs, row_plan(specs, src_sql, officer_index, src.table in versions)))
    return out


def officer_index_sql(officer_filter: str | None) -> str:
    """(officer, oi): the batch's officers numbered from 0 in pseudonym order.

    `oi` is an officer's row in numpy's dense arrays; every query of a batch joins it in SQL
    (looking up the officer string of every row in Python cost more than the queries), and
    being a subquery rather than a registered table, the queries depend on nothing computed
    before them, so they can all be queued at once.
    """
    where = f" WHERE {officer_filter.format(col='officer_id')}" if officer_filter else ""
    return ("(SELECT officer, row_number() OVER (ORDER BY officer) - 1 AS oi FROM "
            f"(SELECT DISTINCT officer_id AS officer FROM officers{where}) o)")


def base_sql(dates: list[date], officer_filter: str | None, network_years: int,
             officer_index: str | None = None, versions: frozenset[str] = NO_VERSIONS) -> str:
    """(officer, idx, day, as_of, officer attributes, network[, oi]) for the cohort grid."""
    net, net_cols = network_sql(network_years, officer_filter, versions)
    oi = ", ix.oi" if officer_index else ""
    join = f" JOIN {officer_index} ix ON ix.officer = g.officer" if officer_index else ""
    return (
        f"WITH dates AS ({dates_sql(dates)}), grid AS ({cohort_sql(officer_filter, versions)}), "
        f"cp AS ({current_posting_sql(versions)}), net AS {net} "
        f"SELECT g.officer, g.idx, g.day, g.as_of{oi}, " + ", ".join(attribute_select())
        + f", coalesce(net.{net_cols[0]}, 0) AS {net_cols[0]}, net.{net_cols[1]} AS {net_cols[1]}, "
        f"coalesce(net.{net_cols[2]}, 0) AS {net_cols[2]} "
        "FROM grid g LEFT JOIN cp ON cp.officer = g.officer AND cp.idx = g.idx "
        f"LEFT JOIN net ON net.officer = g.officer AND net.idx = g.idx{join} "
        # the order of numpy's date-major dense arrays: reading the grid's cells is sequential
        "ORDER BY g.idx, g.officer"
    )


def _prefetched(store: Store, queries: list[str]) -> Iterator:
    """Each query's result in order, the next one running while the caller works on this one.

    DuckDB releases the GIL, so the next query and numpy's sums overlap on 2 cores. One
    worker thread: one query at a time on the store's connection.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(engine.query_arrow, store, queries[0]) if queries else None
        for i in range(len(queries)):
            result = pending.result()
            pending = pool.submit(engine.query_arrow, store, queries[i + 1]) if i + 1 < len(queries) else None
            yield result


def client_batches(store: Store, p: FeaturePlan, dates: list[date], batches: list[str | None],
                   network_years: int, versions: frozenset[str] = NO_VERSIONS) -> Iterator:
    """Each officer batch's feature rows as Arrow (derived features included).

    Same result as batch_sql (a test compares them); DuckDB's window operator is slow with
    hundreds of running sums, while numpy's bincount and prefix sums cost next to nothing.
    The queries of all batches form one queue, so the cohort query of a batch runs while
    numpy adds up the previous batch's last source.
    """
    import numpy as np
    import pyarrow as pa

    days = np.array([day_number(d) for d in dates], dtype=np.float64)
    jobs = []
    for filt in batches:
        index = officer_index_sql(filt)
        jobs.append((base_sql(dates, filt, network_years, index, versions),
                     delta_queries(p, dates, filt, index, versions)))
    results = _prefetched(store, [sql for base, plans in jobs
                                  for sql in (base, *(rp.points_sql for _, rp in plans))])
    for _, plans in jobs:
        base = next(results)
        grid_oi = base.column("oi").to_numpy()
        grid_idx = base.column("idx").to_numpy()
        grid_day = base.column("day").to_numpy().astype(np.float64)
        columns = {name: base.column(name) for name in ("officer", "as_of", *ATTRIBUTE_COLUMNS)}
        for _, rplan in plans:
            rows = next(results)
            running_columns(rows, rplan, days, grid_oi, grid_idx, grid_day, columns)
            del rows
        for name in p.network_columns:
            columns[name] = base.column(name)
        del base
        yield with_derived(pa.table(columns), p)


def with_derived(table, p: FeaturePlan):
    """The table with the derived features appended (SQL expressions, evaluated locally)."""
    if not p.derived:
        return table
    names = ", ".join(name for name, _ in p.derived)
    derived = engine.local_query(f"SELECT {names} FROM ({derived_sql('batch', p)}) d", {"batch": table})
    for name in derived.column_names:  # one chunk, like the other columns: even record batches
        table = table.append_column(name, derived.column(name).combine_chunks())
    return table


def derived_sql(relation: str, p: FeaturePlan) -> str:
    if _derived_chain(p):
        return _layered(f"SELECT * FROM {relation}", p)
    derived = "".join(f", {expr} AS {name}" for name, expr in p.derived)
    return f"SELECT *{derived} FROM {relation} b"


def officer_batches(store: Store, n_dates: int, requested: int) -> list[str | None]:
    """Officer-range filters ({col} placeholder). Contiguous pseudonym ranges keep it portable.

    Automatic: a batch per 1.5M rows of output (officers x dates) or per 20M event rows,
    whichever needs more. The event rows of a batch are held in memory while it is summed:
    one date of a national force (78M event rows) in one batch peaked at 7.7 GiB, in four at
    3.8 GiB, in the same time."""
    n = int(store.scalar("SELECT count(*) FROM officers") or 0)
    if requested:
        k = requested
    else:
        events = sum(int(store.scalar(f"SELECT count(*) FROM {t.qualified_name}") or 0)
                     for t in TABLES if t.kind == "event" and not t.restricted)
        k = max(1, -(-n * n_dates // 1_500_000), -(-events // 20_000_000))
    if k <= 1 or n == 0:
        return [None]
    bounds = [row[0] for row in store.query(
        f"SELECT officer_id FROM (SELECT officer_id, row_number() OVER (ORDER BY officer_id) AS r "
        f"FROM officers) x WHERE (r - 1) % {-(-n // k)} = 0 ORDER BY officer_id")]
    quoted = [literal(b) for b in bounds]
    filters = []
    for i in range(len(quoted)):
        parts = []
        if i > 0:
            parts.append(f"{{col}} >= {quoted[i]}")
        if i + 1 < len(quoted):
            parts.append(f"{{col}} < {quoted[i + 1]}")
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
        # tables with corrected records are read through their versions; the others as they are
        versions = versioned_tables(store)
        out.parent.mkdir(parents=True, exist_ok=True)
        if config.running_sums == "sql":
            _build_sql(store, p, config, dates, batches, scratch, out, step, versions)
        else:
            _build_client(store, p, config, dates, batches, scratch, out, step, versions)
        meta = pq.read_metadata(out)
        step("features: done", len(batches) + 2, len(batches) + 2)
        return {"rows": meta.num_rows, "columns": meta.num_columns, "dates": len(dates),
                "batches": len(batches), "path": str(out)}
    finally:
        engine.restore(store)
        shutil.rmtree(scratch, ignore_errors=True)


def _peer_setup(config: FeaturesConfig, p: FeaturePlan) -> tuple[list[str], str | None]:
    features = [f for f in config.peer_features if f in p.names]
    exposure = config.peer_exposure if config.peer_exposure in p.names else None
    return (features, exposure) if features and exposure else ([], None)


def _build_sql(store: Store, p: FeaturePlan, config: FeaturesConfig, dates: list[date],
               batches: list[str | None], scratch: Path, out: Path, step: Progress,
               versions: frozenset[str] = NO_VERSIONS) -> None:
    """The portable route: batches and peers in SQL, Parquet parts joined with peers at the end."""
    parts = []
    total = len(batches) + 2
    for i, filt in enumerate(batches):
        step(f"features: officers batch {i + 1}/{len(batches)}", i, total)
        part = scratch / f"part-{i:04d}.parquet"
        engine.query_to_parquet(store, batch_sql(p, dates, filt, config.network_years, versions), part)
        parts.append(part)
    relation = engine.parquet_relation(parts)
    # The parts are files on this machine: a server or cluster engine cannot read them, so
    # the rest runs on DuckDB here (the store's own engine on DuckDB).
    local = store if engine.is_duckdb(store) else engine.local_store()
    try:
        step("features: peer comparison", len(batches), total)
        peer_features, exposure = _peer_setup(config, p)
        final = f"SELECT * FROM {relation} f"
        if exposure:
            stats = engine.query_arrow(
                local, peer_stats_sql(relation, peer_features, exposure, config.peer_min_size))
            peers = finish_peers(stats, peer_features)
            engine.register(local, "_openeis_peers", peers)
            select = ", ".join(f"q.{c}" for c in peers.column_names if c not in KEYS)
            final = (f"SELECT f.*, {select} FROM {relation} f LEFT JOIN _openeis_peers q "
                     "ON q.officer = f.officer AND q.as_of = f.as_of")
        step("features: writing", len(batches) + 1, total)
        engine.query_to_parquet(local, final, out)
        if exposure:
            local.unregister("_openeis_peers")
    finally:
        if local is not store:
            local.close()


def _build_client(store: Store, p: FeaturePlan, config: FeaturesConfig, dates: list[date],
                  batches: list[str | None], scratch: Path, out: Path, step: Progress,
                  versions: frozenset[str] = NO_VERSIONS) -> None:
    """The default route: running sums in numpy, the output written once.

    Each batch waits in a scratch file (Arrow IPC, lz4) while only the columns peer
    comparison reads stay in memory; once every batch is done the peer columns are computed
    for all rows, and each batch is written to the output with its slice of them. (Writing
    Parquet parts and then joining them with the peers encoded every row twice.)
    """
    import pyarrow as pa

    peer_features, exposure = _peer_setup(config, p)
    peer_cols = ["officer", "as_of", "peer_unit", "posting_role", exposure, *peer_features]
    total = len(batches) + 2
    parts, inputs = [], []
    step(f"features: officers batch 1/{len(batches)}", 0, total)
    for i, table in enumerate(client_batches(store, p, dates, batches, config.network_years, versions)):
        part = scratch / f"part-{i:04d}.arrow"
        engine.write_scratch(table, part, WRITE_ROWS)
        parts.append(part)
        if exposure:
            inputs.append(table.select(peer_cols))
        del table
        if i + 1 < len(batches):
            step(f"features: officers batch {i + 2}/{len(batches)}", i + 1, total)
    step("features: peer comparison", len(batches), total)
    peers = _peer_stats(pa.concat_tables(inputs), config, peer_features, exposure) if exposure else None
    del inputs
    step("features: writing", len(batches) + 1, total)
    _write_output(parts, peers, out)


@dataclass
class _Peers:
    """Peer comparison over the rows of all batches (in batch order), scores still to compute."""

    grouped: object  # numpy bool per row: in a peer group (the rows `stats` covers, in order)
    stats: object  # pa.Table: peer columns but the Poisson scores, for the grouped rows
    tails: dict  # Poisson score column -> (x, lambda) arrays over the grouped rows

    def columns(self, lo: int, hi: int) -> dict:
        """The peer columns of rows lo..hi (NULL outside a group), Poisson scores computed now."""
        import numpy as np
        import pyarrow as pa

        from openeis.features.peers import poisson_column

        grouped = self.grouped[lo:hi]
        p0 = int(np.count_nonzero(self.grouped[:lo]))
        p1 = p0 + int(np.count_nonzero(grouped))
        cols = {name: self.stats.column(name).slice(p0, p1 - p0)
                for name in self.stats.column_names if name not in KEYS}
        cols |= {name: poisson_column(x[p0:p1], lam[p0:p1]) for name, (x, lam) in self.tails.items()}
        take = pa.array(np.cumsum(grouped) - 1, mask=~grouped)  # row -> its grouped row, or NULL
        return {name: column.take(take) for name, column in cols.items()}


def _peer_stats(inputs, config: FeaturesConfig, features: list[str], exposure: str) -> _Peers:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    grouped = pc.and_(pc.is_valid(inputs.column("peer_unit")), pc.is_valid(inputs.column("posting_role")))
    rows = inputs.filter(grouped)
    grouped = grouped.to_numpy(zero_copy_only=False)
    if not any(rows.column(c).null_count for c in (exposure, *features)):
        return _Peers(grouped, *peer_stats(rows, features, exposure, config.peer_min_size))
    # the portable SQL (window functions) for inputs with NULLs, aligned to the rows
    rows = rows.append_column("_row", pa.array(np.arange(rows.num_rows)))
    stats = engine.local_query(
        f"SELECT s.* FROM ({peer_stats_sql('peer_rows', features, exposure, config.peer_min_size)}) s "
        "JOIN peer_rows r ON r.officer = s.officer AND r.as_of = s.as_of ORDER BY r._row",
        {"peer_rows": rows})
    return _Peers(grouped, finish_peers(stats, features), {})


WRITE_ROWS = 250_000  # rows per write: small enough for writing and preparing to overlap


def _write_output(parts: list[Path], peers: _Peers | None, out: Path) -> None:
    """Each batch with its peer columns to `out`, one scratch record batch at a time.

    Parquet encoding (the writer thread) and the next slice's Poisson scores (here) both
    release the GIL, so they overlap on 2 cores; reading slices, not whole batches, keeps
    two slices in memory rather than two batches.
    """
    offset, writer, pending = 0, None, None
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            for part in parts:
                for piece in engine.read_scratch(part):
                    if peers is not None:
                        for name, column in peers.columns(offset, offset + piece.num_rows).items():
                            piece = piece.append_column(name, column)
                    offset += piece.num_rows
                    writer = writer or engine.parquet_writer(out, piece.schema)
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(writer.write_table, piece)
                    del piece
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                pending.exception()  # wait for it before closing the file
            if writer is not None:
                writer.close()


def features_table(store: Store, dates: list[date], config: FeaturesConfig | None = None):
    """The feature table as Arrow, sorted by (as_of, officer) (for tests and small stores)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.parquet"
        build_features(store, dates, path, config)
        return pq.read_table(path).sort_by([("as_of", "ascending"), ("officer", "ascending")])
