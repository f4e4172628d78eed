"""Which unit an officer belonged to on a date: what a reviewer's scope is checked against."""

from __future__ import annotations

from datetime import date, datetime, time

from openeis.store import Store


def officer_unit(store: Store, officer: str, on: date) -> str | None:
    """The unit of the officer's posting on `on` (the latest posting started by then)."""
    moment = datetime.combine(on, time.max)
    return store.scalar(
        "SELECT unit_id FROM postings WHERE officer_id = ? AND occurred_at <= ? "
        "AND (ends_at IS NULL OR ends_at > ?) ORDER BY occurred_at DESC, posting_id LIMIT 1",
        [officer, moment, moment],
    )


def flag_units(store: Store, as_of: date | None = None) -> dict[str, str | None]:
    """flag_id -> the flagged officer's unit on the flag's date, for every flag (of a date)."""
    where = "WHERE f.as_of = ?" if as_of else ""
    rows = store.query(
        "SELECT f.flag_id, (SELECT p.unit_id FROM postings p WHERE p.officer_id = f.officer "
        "AND p.occurred_at < f.as_of + INTERVAL '1 day' AND (p.ends_at IS NULL OR p.ends_at >= f.as_of + INTERVAL '1 day') "
        "ORDER BY p.occurred_at DESC, p.posting_id LIMIT 1) FROM flags f " + where,
        [as_of] if as_of else [],
    )
    return dict(rows)
