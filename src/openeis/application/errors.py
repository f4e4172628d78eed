"""Typed refusals. Every action raises one of these (or lets a subclass of them through) when
it will not do what was asked; the CLI prints the message and exits 1, the web application
answers with the status code named here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from openeis.governance.policy import Decision


class Refused(Exception):
    """An action refused, with a reason a person can act on (CLI: exit 1; web: 400)."""

    http_status = 400


class AccessDenied(Refused):
    """The policy refused the caller; the refusal is already in the access log (web: 403)."""

    http_status = 403

    def __init__(self, decision: Decision):
        super().__init__(decision.reason)
        self.decision = decision


class NotFound(Refused):
    """No such flag, officer or model (web: 404)."""

    http_status = 404


class Invalid(Refused):
    """Input the action cannot take: not a date, an unknown format, a bad review (web: 422)."""

    http_status = 422


class GateRefused(Refused):
    """The bias gate keeps a model from going live, or the registry refuses a change (web: 409)."""

    http_status = 409


class BatchRefused(Invalid):
    """An ingest batch refused as a whole: nothing was written. `problems` names every bad
    row (file, line, column, value, reason); `notes` say what else the reader noticed."""

    def __init__(self, message: str, problems: list | None = None, notes: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []
        self.notes = notes or []


@contextmanager
def refusing(kind: type[Refused], *errors: type[Exception]) -> Iterator[None]:
    """Turn a lower layer's error (a bad date, an unknown model, a bad config file) into the
    typed refusal `kind`, with the same message and no traceback."""
    try:
        yield
    except errors as error:
        raise kind(str(error)) from None
