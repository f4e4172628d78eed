"""The replay tests' helpers: `openeis` run in-process, a force's files corrected as a later
extract would correct them, and tables compared every column.

    openeis           `openeis ...` in-process, without OPENEIS_* settings from the environment
    correct           a force's Parquet files with corrections to records it already held
    assert_identical  two feature or label tables equal in every row and column (NaN == NaN)
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from openeis.cli import app

ORDER = [("as_of", "ascending"), ("officer", "ascending")]


def openeis(*args, expect: int = 0) -> str:
    """`openeis ...` in-process; its output. Fails unless it exits with `expect`."""
    env = {"OPENEIS_STORE": None, "OPENEIS_CONFIG": None, "OPENEIS_KEY_FILE": None}
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    assert result.exit_code == expect, f"openeis {' '.join(map(str, args))}: {result.output}{result.exception!r}"
    return result.output


def _shift(column: pa.ChunkedArray, days: int, mask: list[bool]) -> pa.Array:
    values = column.to_pylist()
    return pa.array([v + timedelta(days=days) if m and v is not None else v for v, m in zip(values, mask)],
                    type=column.type)


def _replace(table: pa.Table, name: str, values) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, name, pa.array(values, type=table.schema.field(name).type))


def correct(source: Path, target: Path) -> dict[str, int]:
    """The force's files with corrections to records it already held; how many per table."""
    shutil.copytree(source, target)
    counts = {}

    def load(name: str) -> pa.Table:
        return pq.read_table(source / f"{name}.parquet")

    def save(name: str, table: pa.Table, changed: list[bool]) -> None:
        pq.write_table(table, target / f"{name}.parquet")
        counts[name] = sum(changed)

    # allegations: a third of the decided ones change category and finding, decided 20 days
    # later; every fourth (any) occurred 10 days earlier than first recorded
    t = load("allegations")
    finding, category = t.column("finding").to_pylist(), t.column("category").to_pylist()
    decided = [f != "open" and i % 3 == 0 for i, f in enumerate(finding)]
    moved = [i % 4 == 1 for i in range(t.num_rows)]
    t = _replace(t, "category", [("discourtesy" if c != "discourtesy" else "neglect_of_duty") if d else c
                                 for c, d in zip(category, decided)])
    t = _replace(t, "finding", [("not_upheld" if f == "upheld" else "upheld") if d else f
                                for f, d in zip(finding, decided)])
    t = t.set_column(t.schema.get_field_index("decided_at"), "decided_at", _shift(t.column("decided_at"), 20, decided))
    t = t.set_column(t.schema.get_field_index("occurred_at"), "occurred_at", _shift(t.column("occurred_at"), -10, moved))
    save("allegations", t, [a or b for a, b in zip(decided, moved)])

    # complaints: every fifth recorded 3 days earlier (labels count complaints by that date)
    t = load("complaints")
    earlier = [i % 5 == 2 for i in range(t.num_rows)]
    occurred = t.column("occurred_at").to_pylist()
    recorded = t.column("recorded_at").to_pylist()
    earlier = [e and r - timedelta(days=3) >= o for e, o, r in zip(earlier, occurred, recorded)]
    t = t.set_column(t.schema.get_field_index("recorded_at"), "recorded_at", _shift(t.column("recorded_at"), -3, earlier))
    save("complaints", t, earlier)

    # use of force: every fifth another force type, subject injury flipped
    t = load("use_of_force")
    changed = [i % 5 == 0 for i in range(t.num_rows)]
    t = _replace(t, "force_type", [("baton" if f != "baton" else "unarmed") if c else f
                                   for f, c in zip(t.column("force_type").to_pylist(), changed)])
    t = _replace(t, "subject_injured", [(not v) if c else v
                                        for v, c in zip(t.column("subject_injured").to_pylist(), changed)])
    save("use_of_force", t, changed)

    # absences: every seventh with an end ends 3 days later; every eleventh started 2 days early
    t = load("absences")
    ends = t.column("ends_at").to_pylist()
    later = [i % 7 == 3 and e is not None for i, e in enumerate(ends)]
    early = [i % 11 == 5 for i in range(t.num_rows)]
    t = t.set_column(t.schema.get_field_index("ends_at"), "ends_at", _shift(t.column("ends_at"), 3, later))
    t = t.set_column(t.schema.get_field_index("occurred_at"), "occurred_at", _shift(t.column("occurred_at"), -2, early))
    save("absences", t, [a or b for a, b in zip(later, early)])

    # postings: every fourth in another unit and role
    t = load("postings")
    units = sorted(set(t.column("unit_id").to_pylist()))
    changed = [i % 4 == 2 for i in range(t.num_rows)]
    t = _replace(t, "unit_id", [units[(units.index(u) + 1) % len(units)] if c else u
                                for u, c in zip(t.column("unit_id").to_pylist(), changed)])
    t = _replace(t, "role", [("patrol" if r != "patrol" else "custody") if c else r
                             for r, c in zip(t.column("role").to_pylist(), changed)])
    save("postings", t, changed)

    # officers: a few joined 100 days earlier; those who left, 30 days later
    t = load("officers")
    joined = [i % 6 == 1 for i in range(t.num_rows)]
    left = [i % 3 == 0 and v is not None for i, v in enumerate(t.column("left_at").to_pylist())]
    t = t.set_column(t.schema.get_field_index("joined_at"), "joined_at", _shift(t.column("joined_at"), -100, joined))
    t = t.set_column(t.schema.get_field_index("recorded_at"), "recorded_at",
                     _shift(t.column("recorded_at"), -100, joined))
    t = t.set_column(t.schema.get_field_index("left_at"), "left_at", _shift(t.column("left_at"), 30, left))
    save("officers", t, [a or b for a, b in zip(joined, left)])
    return counts


def assert_identical(got: pa.Table, expected: pa.Table) -> None:
    assert got.column_names == expected.column_names
    assert got.num_rows == expected.num_rows > 0
    assert got.column("officer").to_pylist() == expected.column("officer").to_pylist()
    differing = [name for name in got.column_names if got.column(name).to_pylist() != expected.column(name).to_pylist()
                 and not all(a == b or (a != a and b != b) for a, b in zip(got.column(name).to_pylist(),
                                                                          expected.column(name).to_pylist()))]
    assert not differing, differing
