"""A generic check of input files against schema.py (used by the tests, handy by hand).

    from openeis.synth.validate import validate_dir
    problems = validate_dir(out_dir)          # [] when everything holds

Checks, per table: the header (canonical columns in order, then only discarded ones),
required values present, codes from the code lists, keys unique, foreign keys resolving,
spans in order, times parseable and before the snapshot, decisions not before records,
decisions (`Table.decision`: e.g. finding `open` exactly when decided_at is empty), and
recorded_at >= occurred_at
except for a small tolerated share (complaints recorded a few days early happen).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openeis import schema

EARLY_RECORDING_TOLERANCE = 0.005  # complaints and allegations only: share ...
EARLY_RECORDING_SLACK = 10  # ... plus a few rows, for small forces
TYPES = {
    schema.ColumnType.STRING: pa.string(),
    schema.ColumnType.INTEGER: pa.int64(),
    schema.ColumnType.FLOAT: pa.float64(),
    schema.ColumnType.BOOLEAN: pa.bool_(),
    schema.ColumnType.TIMESTAMP: pa.timestamp("s"),
}


def table_path(out_dir: Path, name: str) -> Path | None:
    for fmt in ("csv", "parquet"):
        path = Path(out_dir) / f"{name}.{fmt}"
        if path.is_file():
            return path
    return None


def read_table(path: Path, name: str) -> pa.Table:
    """A table file as typed Arrow: schema types, nulls for missing, extras as strings."""
    spec = schema.table(name)
    if path.suffix == ".csv":
        header = path.open("r", encoding="utf-8").readline().rstrip("\n").split(",")
        raw = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    else:
        raw = pq.read_table(path)
    columns = {}
    for column_name in raw.column_names:
        array = raw[column_name]
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        if spec.has(column_name):
            target = TYPES[spec.column(column_name).type]
            if pa.types.is_date(array.type):
                array = array.cast(pa.timestamp("s"))
            elif target == pa.bool_() and pa.types.is_string(array.type):
                array = pc.equal(array, "true")
            array = array.cast(target)
        columns[column_name] = array
    return pa.table(columns)


def _values(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def validate_dir(out_dir: str | Path, snapshot: str | None = None) -> list[str]:
    """Problems found in the table files of out_dir ([] when all checks pass).

    The snapshot (exclusive end of the data) is read from ground_truth/effects.json when
    not given; times on or after it are problems.
    """
    out = Path(out_dir)
    problems: list[str] = []
    if snapshot is None:
        effects = out / "ground_truth" / "effects.json"
        if effects.is_file():
            snapshot = json.loads(effects.read_text())["snapshot"]
    limit = pa.scalar(np.datetime64(snapshot, "s"), pa.timestamp("s")) if snapshot else None

    tables: dict[str, pa.Table] = {}
    for spec in schema.TABLES:
        path = table_path(out, spec.name)
        if path is None:
            problems.append(f"{spec.name}: no file")
            continue
        try:
            tables[spec.name] = read_table(path, spec.name)
        except (pa.ArrowInvalid, ValueError) as error:
            problems.append(f"{spec.name}: unreadable: {error}")
            continue
        names = tables[spec.name].column_names
        canonical = list(spec.column_names)
        if names[: len(canonical)] != canonical:
            problems.append(f"{spec.name}: header {names} does not start with {canonical}")
        extra = [c for c in names[len(canonical):] if c not in spec.discarded]
        if extra:
            problems.append(f"{spec.name}: columns {extra} are neither canonical nor discarded")

    for spec in schema.TABLES:
        t = tables.get(spec.name)
        if t is None:
            continue
        problems.extend(_check_table(spec, t, tables, limit))
    return problems


def _check_table(spec: schema.Table, t: pa.Table, tables, limit) -> list[str]:
    problems = []
    name = spec.name
    for column in spec.columns:
        if column.name not in t.column_names:
            continue
        values = t[column.name]
        if column.required and values.null_count:
            problems.append(f"{name}.{column.name}: {values.null_count} missing required values")
        if column.codes is not None:
            bad = pc.invert(pc.is_in(values, value_set=pa.array(column.codes)))
            bad = pc.and_kleene(bad, pc.is_valid(values))
            n_bad = pc.sum(bad).as_py() or 0
            if n_bad:
                sample = pc.filter(values, bad)[:3].to_pylist()
                problems.append(f"{name}.{column.name}: {n_bad} values not in code list: {sample}")
        if column.references and column.references in tables:
            ref = tables[column.references]
            ref_key = schema.table(column.references).key
            known = pc.is_in(values, value_set=ref[ref_key].combine_chunks())
            missing = pc.sum(pc.and_kleene(pc.invert(known), pc.is_valid(values))).as_py() or 0
            if missing:
                problems.append(
                    f"{name}.{column.name}: {missing} values not in {column.references}"
                )
        if column.type == schema.ColumnType.TIMESTAMP and limit is not None:
            late = pc.sum(pc.greater_equal(values, limit)).as_py() or 0
            if late:
                problems.append(f"{name}.{column.name}: {late} times on or after the snapshot")

    key = t[spec.key]
    if pc.count_distinct(key).as_py() != t.num_rows or key.null_count:
        problems.append(f"{name}.{spec.key}: keys are not unique and present")

    for start, end in spec.spans:
        bad = pc.sum(pc.less(t[end], t[start])).as_py() or 0
        if bad:
            problems.append(f"{name}: {bad} rows with {end} before {start}")

    if spec.has("decided_at") and spec.has("recorded_at"):
        bad = pc.sum(pc.less(t["decided_at"], t["recorded_at"])).as_py() or 0
        if bad:
            problems.append(f"{name}: {bad} rows decided before recorded")

    if spec.has("recorded_at") and spec.has("occurred_at"):
        early = pc.sum(pc.less(t["recorded_at"], t["occurred_at"])).as_py() or 0
        tolerated = (
            EARLY_RECORDING_TOLERANCE * t.num_rows + EARLY_RECORDING_SLACK
            if name in ("complaints", "allegations")
            else 0
        )
        if early > tolerated:
            problems.append(f"{name}: {early} rows recorded before they occurred")

    decision = getattr(spec, "decision", None)
    if decision is None and name == "allegations":
        decision = ("finding", ("open",))
    if decision is not None:
        column_name, undecided = decision
        is_open = pc.fill_null(pc.is_in(t[column_name], value_set=pa.array(undecided)), False)
        has_decision = pc.is_valid(t["decided_at"])
        both = pc.sum(pc.and_(is_open, has_decision)).as_py() or 0
        neither = pc.sum(pc.and_(pc.invert(is_open), pc.invert(has_decision))).as_py() or 0
        if both:
            problems.append(f"{name}: {both} rows with {column_name} {undecided} and decided_at")
        if neither:
            problems.append(f"{name}: {neither} decided rows ({column_name}) without decided_at")
    if name == "officers":
        bad = pc.sum(pc.xor(pc.is_valid(t["left_at"]), pc.is_valid(t["leaving_reason"]))).as_py()
        if bad:
            problems.append(f"officers: {bad} rows with left_at and leaving_reason disagreeing")
    if name == "shift_swaps":
        same = pc.sum(pc.equal(t["officer_id"], t["other_officer_id"])).as_py() or 0
        if same:
            problems.append(f"shift_swaps: {same} swaps with oneself")
    return problems
