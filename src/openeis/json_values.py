"""`json.dumps(..., default=json_default)` for what the pipeline's results hold besides plain
Python values: dates and date-times (ISO text) and numpy scalars (their Python value)."""

from __future__ import annotations


def json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
