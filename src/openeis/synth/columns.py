"""Arrow column builders: identifiers, codes, dates and times from numpy arrays.

Internally every table is numpy: officers and units are integer indices, codes are
indices into schema code lists, times are day numbers or seconds since 1970. These
helpers turn them into Arrow arrays without a Python loop per value: codes and officer
ids become dictionary arrays, identifiers are formatted digit by digit in numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openeis import schema
from openeis.synth.timeline import SECONDS_PER_DAY

DATETIME = pa.timestamp("s")


def _mask(valid: np.ndarray | None) -> np.ndarray | None:
    if valid is None:
        return None
    valid = np.asarray(valid, dtype=bool)
    return None if valid.all() else ~valid


def fixed_width(parts: Sequence[str | tuple[np.ndarray, int]], n: int) -> pa.Array:
    """Strings of one width from literal parts and zero-padded numbers, e.g. "C2016-000123"."""
    width = sum(len(p) if isinstance(p, str) else p[1] for p in parts)
    buf = np.empty((n, width), dtype=np.uint8)
    col = 0
    for part in parts:
        if isinstance(part, str):
            raw = np.frombuffer(part.encode("ascii"), dtype=np.uint8)
            buf[:, col : col + len(raw)] = raw
            col += len(raw)
            continue
        values, digits = part
        v = np.asarray(values, dtype=np.int64)
        if n and (v.min() < 0 or v.max() >= 10**digits):
            raise ValueError(f"number out of range for {digits} digits")
        v = v.copy()
        for k in range(digits - 1, -1, -1):
            buf[:, col + k] = 48 + (v % 10)
            v //= 10
        col += digits
    total = n * width
    if total < 2**31 - 1:
        offsets = np.arange(0, total + 1, width, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))
    offsets64 = np.arange(0, total + 1, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets64), pa.py_buffer(buf))


def digits_for(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(int(n), 1))))


SEQUENCE_BLOCK = 10_000
_LOW_DIGITS = np.frombuffer(
    "".join(f"{i:04d}" for i in range(SEQUENCE_BLOCK)).encode("ascii"), dtype=np.uint8
).reshape(SEQUENCE_BLOCK, 4)


def sequence_ids(prefix: str, n: int, min_digits: int = 8) -> pa.Array:
    """prefix + 1..n, zero-padded: "AB00000001".

    Built in blocks of 10,000: the last four digits are one repeated pattern and the
    higher digits are constant within a block, so each byte is written once.
    """
    digits = digits_for(n, min_digits)
    if n < SEQUENCE_BLOCK or digits < 5:
        return fixed_width([prefix, (np.arange(1, n + 1), digits)], n)
    width = len(prefix) + digits
    blocks = (n + 1 + SEQUENCE_BLOCK - 1) // SEQUENCE_BLOCK  # numbers 0 .. blocks*B - 1
    buf = np.empty((blocks, SEQUENCE_BLOCK, width), dtype=np.uint8)
    buf[:, :, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    high = fixed_width([(np.arange(blocks), digits - 4)], blocks)
    high_bytes = np.frombuffer(high.buffers()[2], dtype=np.uint8)[: blocks * (digits - 4)]
    buf[:, :, len(prefix) : width - 4] = high_bytes.reshape(blocks, 1, digits - 4)
    buf[:, :, width - 4 :] = _LOW_DIGITS[None, :, :]
    flat = buf.reshape(-1)[width : width * (n + 1)]  # skip number 0
    total = n * width
    if total < 2**31 - 1:
        offsets = np.arange(0, total + 1, width, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(flat))
    offsets64 = np.arange(0, total + 1, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets64), pa.py_buffer(flat))


def lookup(dictionary: pa.Array, index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Dictionary array: dictionary[index], null where not valid."""
    idx = pa.array(np.asarray(index, dtype=np.int32), mask=_mask(valid))
    return pa.DictionaryArray.from_arrays(idx, dictionary)


def codes(values: Sequence[str], index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Code column from indices into `values`; "" entries and invalid rows become null."""
    index = np.asarray(index)
    values = tuple(values)
    valid_codes = np.array([v != "" for v in values])
    ok = valid_codes[np.clip(index, 0, len(values) - 1)] & (index >= 0)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    safe = np.where(ok, index, 0)
    return lookup(pa.array(list(values), pa.string()), safe, ok)


def schema_codes(table: str, column: str, index: np.ndarray, valid=None) -> pa.Array:
    codes_ = schema.table(table).column(column).codes
    assert codes_ is not None, f"{table}.{column} has no code list"
    return codes(codes_, index, valid)


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.int32(), mask=_mask(valid)).view(
        pa.date32()
    )


def datetimes(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), DATETIME, mask=_mask(valid))


def day_seconds(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64) * SECONDS_PER_DAY


def ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64(), mask=_mask(valid))


def floats(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), pa.float64(), mask=_mask(valid))


def bools(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_(), mask=_mask(valid))


def nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def join(*parts: pa.Array | str, separator: str = "") -> pa.Array:
    """Element-wise string concatenation of arrays and literals."""
    arrays = [p if isinstance(p, str) else _plain(p) for p in parts]
    return pc.binary_join_element_wise(*arrays, separator)


def _plain(array: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(array.type):
        return array.cast(array.type.value_type)
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        return array.cast(pa.string())
    return array


def build_table(name: str, columns: dict[str, pa.Array], extras: Sequence[str] = ()) -> pa.Table:
    """Canonical columns of `name` in schema order, then the given discarded columns."""
    spec = schema.table(name)
    wanted = list(spec.column_names) + list(extras)
    missing = [c for c in wanted if c not in columns]
    unexpected = [c for c in columns if c not in wanted]
    if missing or unexpected:
        raise AssertionError(f"{name}: missing {missing}, unexpected {unexpected}")
    bad = [c for c in extras if c not in spec.discarded]
    if bad:
        raise AssertionError(f"{name}: {bad} are not discarded columns of the table")
    return pa.table({c: columns[c] for c in wanted})
