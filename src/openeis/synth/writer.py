"""Writing tables: CSV (fast, pyarrow) or Parquet, on one background thread.

CSV: a plain header line with the column names, no quoting (values never contain a
comma, quote or newline; pyarrow refuses to write one that does), empty for missing,
dates as YYYY-MM-DD, date-times as YYYY-MM-DDTHH:MM:SS, booleans true/false.
Parquet: typed columns (string, int64, double, bool, date32, timestamp[s]), nulls for
missing. The same table gives the same bytes every time.

Writing runs on WRITER_THREADS worker threads (pyarrow releases the GIL) while the next
table is generated; each file is written by one thread, so the bytes never depend on
timing. At most MAX_PENDING tables wait, to bound memory.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CSV_BATCH_ROWS = 1 << 19
PARQUET_ROW_GROUP = 1 << 20
MAX_PENDING = 2
WRITER_THREADS = 2
FLOAT_TABLE_MAX = 10_000  # doubles on a quarter grid up to this are formatted by look-up
FORMATS = ("csv", "parquet")


_TIME_OF_DAY: np.ndarray | None = None
_RECORD = np.dtype([("date", "S10"), ("t", "S1"), ("time", "S8")])


def _time_of_day() -> np.ndarray:
    """"HH:MM:SS" for each second of the day (built once)."""
    global _TIME_OF_DAY
    if _TIME_OF_DAY is None:
        seconds = np.arange(86_400)
        table = np.full((86_400, 8), ord(":"), dtype=np.uint8)
        for col, value in ((0, seconds // 3600), (3, seconds // 60 % 60), (6, seconds % 60)):
            table[:, col] = 48 + value // 10
            table[:, col + 1] = 48 + value % 10
        _TIME_OF_DAY = table.view("S8")[:, 0]
    return _TIME_OF_DAY


def format_datetimes(array: pa.Array) -> pa.Array:
    """timestamp[s] -> "YYYY-MM-DDTHH:MM:SS" strings (nulls stay null).

    Each value is two table look-ups: its date among the days the batch spans and its
    second of the day; the 19-byte records are assembled by numpy.
    """
    n = len(array)
    if n == 0 or array.null_count == n:
        return pa.nulls(n, pa.string())
    as_int = array.cast(pa.int64())
    seconds = pc.fill_null(as_int, pc.min(as_int))
    values = np.asarray(seconds.to_numpy(zero_copy_only=False))
    day = values // 86_400
    first = int(day.min())
    dates = np.datetime_as_string(np.arange(first, int(day.max()) + 1).astype("datetime64[D]"))
    records = np.empty(n, dtype=_RECORD)
    records["date"] = np.char.encode(dates)[day - first]
    records["t"] = b"T"
    records["time"] = _time_of_day()[values - day * 86_400]
    return _fixed_strings(records, 19, array)


def _validity(array: pa.Array) -> pa.Buffer | None:
    if array.null_count == 0:
        return None
    return pa.py_buffer(np.packbits(~_null_mask(array), bitorder="little"))


def _fixed_strings(records: np.ndarray, width: int, array: pa.Array) -> pa.Array:
    n = len(records)
    offsets = np.arange(0, width * n + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(records.view(np.uint8)), _validity(array),
        array.null_count,
    )


def format_dates(array: pa.Array) -> pa.Array:
    """date32 -> "YYYY-MM-DD" strings by looking each day up among the days spanned."""
    n = len(array)
    if n == 0 or array.null_count == n:
        return pa.nulls(n, pa.string())
    as_int = array.cast(pa.int32())
    values = np.asarray(pc.fill_null(as_int, pc.min(as_int)).to_numpy(zero_copy_only=False))
    first = int(values.min())
    dates = np.datetime_as_string(np.arange(first, int(values.max()) + 1).astype("datetime64[D]"))
    return _fixed_strings(np.char.encode(dates)[values - first], 10, array)


def format_floats(array: pa.Array) -> pa.Array:
    """Doubles on a quarter grid (hours) by table look-up, formatted as Arrow formats them."""
    values = np.asarray(pc.fill_null(array, 0.0).to_numpy(zero_copy_only=False))
    quarters = values * 4
    if len(values) == 0 or values.min() < 0 or values.max() > FLOAT_TABLE_MAX:
        return array.cast(pa.string())
    index = quarters.astype(np.int64)
    if (index != quarters).any():
        return array.cast(pa.string())
    table = pa.array(np.arange(int(index.max()) + 1) / 4.0).cast(pa.string())
    return table.take(pa.array(index, mask=_null_mask(array)))


def _null_mask(array: pa.Array) -> np.ndarray | None:
    if array.null_count == 0:
        return None
    return np.asarray(pc.is_null(array).to_numpy(zero_copy_only=False))


def _csv_array(array: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(array.type):
        return format_datetimes(array)
    if pa.types.is_date32(array.type):
        return format_dates(array)
    if pa.types.is_floating(array.type):
        return format_floats(array)
    return array


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    """Date-times, dates and doubles are formatted to strings before writing."""
    formatted = (pa.types.is_timestamp, pa.types.is_date32, pa.types.is_floating)
    fields = [
        pa.field(f.name, pa.string()) if any(t(f.type) for t in formatted) else f for f in schema
    ]
    return pa.schema(fields)


def write_csv(table: pa.Table, path: Path) -> None:
    header = (",".join(table.column_names) + "\n").encode("utf-8")
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with pa.OSFile(str(path), "wb") as sink:
        sink.write(header)
        if table.num_rows == 0:
            return
        with pacsv.CSVWriter(sink, _csv_schema(table.schema), write_options=options) as writer:
            for batch in table.to_batches(max_chunksize=CSV_BATCH_ROWS):
                arrays, done = [], {}
                for col in batch.columns:
                    if not (pa.types.is_timestamp(col.type) or pa.types.is_date32(col.type)):
                        arrays.append(_csv_array(col))
                        continue
                    # Columns built from one array (recorded_at = occurred_at) format once.
                    key = (str(col.type), col.offset, len(col)) + tuple(
                        b.address if b is not None else 0 for b in col.buffers()
                    )
                    if key not in done:
                        done[key] = _csv_array(col)
                    arrays.append(done[key])
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, names=batch.schema.names))


def plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded, so readers see plain strings."""
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(
        plain(table),
        str(path),
        compression="zstd",
        row_group_size=PARQUET_ROW_GROUP,
        write_statistics=True,
    )


def write_table(table: pa.Table, path: Path, file_format: str) -> None:
    if file_format == "csv":
        write_csv(table, path)
    elif file_format == "parquet":
        write_parquet(table, path)
    else:
        raise ValueError(f"unknown file format {file_format!r}; use one of {FORMATS}")


class TableSink:
    """Writes `<name>.<format>` files in the background; close() waits for all of them."""

    def __init__(self, out_dir: Path, file_format: str) -> None:
        if file_format not in FORMATS:
            raise ValueError(f"unknown file format {file_format!r}; use one of {FORMATS}")
        self.out_dir = Path(out_dir)
        self.file_format = file_format
        self.counts: dict[str, int] = {}
        self._executor = ThreadPoolExecutor(
            max_workers=WRITER_THREADS, thread_name_prefix="synth-writer"
        )
        self._pending: deque[Future[None]] = deque()

    def path(
        self, name: str, directory: Path | None = None, file_format: str | None = None
    ) -> Path:
        return (directory or self.out_dir) / f"{name}.{file_format or self.file_format}"

    def put(
        self,
        name: str,
        table: pa.Table,
        directory: Path | None = None,
        file_format: str | None = None,
        count: bool = True,
    ) -> None:
        """Queue `table` for writing as `<name>.<format>` (in `directory`, default out_dir)."""
        if count:
            self.counts[name] = table.num_rows
        while len(self._pending) > MAX_PENDING:
            self._pending.popleft().result()
        path = self.path(name, directory, file_format)
        self._pending.append(
            self._executor.submit(write_table, table, path, file_format or self.file_format)
        )

    def close(self) -> None:
        """Wait for every queued file; a writer's error is raised here."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Drop queued writes (after an error elsewhere); running ones finish."""
        self._pending.clear()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> TableSink:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
