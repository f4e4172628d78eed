"""What ingestion reports about bad input: one Problem per bad cell or row."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int  # 1-based physical line of a CSV (the header is line 1); row number for Parquet
    column: str | None
    value: str | None
    reason: str
    severity: str = "error"  # "error" rejects the row; "warning" is reported only

    def __str__(self) -> str:
        where = f"{printable(self.file)}:{self.line}"
        if self.column:
            where += f": column {printable(self.column)}"
        shown = "" if self.value is None else f": value {self.value!r}"
        return f"{where}{shown}: {printable(self.reason)}"

    def as_dict(self) -> dict:
        return asdict(self)


def printable(text: str) -> str:
    """Text from the input made safe to print: control characters (an escape sequence that
    would drive the terminal, a NUL, a line break) shown as escapes, as repr shows a value."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class IngestFailed(Exception):
    """The batch was refused and nothing was written."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []
