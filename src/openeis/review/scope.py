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


def flag_units(store: Store, as_of: date, flag_ids: list[str] | None = None) -> dict[str, str | None]:
    """flag_id -> the flagged officer's unit on `as_of`, for every flag of that date (or those
    named). One join (the latest posting started by the end of the day wins), not a lookup
    per flag."""
    end_of_day = datetime.combine(as_of, time.max)
    only = f" AND f.flag_id IN ({', '.join('?' for _ in flag_ids)})" if flag_ids else ""
    rows = store.query(
        "SELECT f.flag_id, p.unit_id, p.occurred_at, p.posting_id FROM flags f "
        "JOIN postings p ON p.officer_id = f.officer WHERE f.as_of = ? AND p.occurred_at <= ? "
        "AND (p.ends_at IS NULL OR p.ends_at > ?)" + only, [as_of, end_of_day, end_of_day, *(flag_ids or [])])
    latest: dict[str, tuple] = {}
    for flag_id, unit, started, posting in rows:
        if flag_id not in latest or (started, posting) > latest[flag_id][1:]:
            latest[flag_id] = (unit, started, posting)
    return {flag_id: value[0] for flag_id, value in latest.items()}
