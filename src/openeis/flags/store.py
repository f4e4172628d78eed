"""Writing and reading flags. A flag cannot be written without its explanation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from openeis.store import Store


class FlagWithoutExplanation(ValueError):
    """A flag must carry its reasons: refused before anything is written."""


@dataclass
class Flag:
    as_of: date
    officer: str
    source: str  # model | rule | detector
    explanation: dict  # {"sentences": [...], ...}
    rules: list[dict] = field(default_factory=list)  # [{"name", "description", "value"}]
    model_id: str | None = None
    score: float | None = None
    rank: int | None = None
    percentile: float | None = None
    queue: str = "conduct"  # conduct | welfare (attendance and sickness prompts)

    @property
    def flag_id(self) -> str:
        """Stable: re-scoring the same date with the same model gives the same id."""
        text = f"{self.as_of}|{self.officer}|{self.source}|{self.model_id or ''}"
        if self.queue != "conduct":  # an officer may have a conduct and a welfare rule flag
            text += f"|{self.queue}"
        return "f-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        return {"flag_id": self.flag_id, "as_of": self.as_of.isoformat(), "officer": self.officer,
                "source": self.source, "model_id": self.model_id, "score": self.score,
                "rank": self.rank, "percentile": self.percentile, "rules": self.rules,
                "queue": self.queue, "explanation": self.explanation}


def check_explained(flag: Flag) -> None:
    sentences = [s for s in flag.explanation.get("sentences", []) if isinstance(s, str) and s.strip()]
    if not sentences:
        raise FlagWithoutExplanation(
            f"flag for officer {flag.officer} on {flag.as_of} has no explanation: a flag must say why")
    if flag.source == "model" and not flag.explanation.get("factors"):
        raise FlagWithoutExplanation(
            f"model flag for officer {flag.officer} on {flag.as_of} has no contributing factors")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def replace_flags(store: Store, as_of: date, model_id: str | None, flags: list[Flag],
                  sources: tuple[str, ...] = ("model", "rule")) -> dict:
    """Write this run's flags for `as_of` in the caller's transaction. Earlier flags of the same
    date and sources still `new` (nobody has started reviewing them) are replaced; flags
    already in review or decided are kept, never overwritten."""
    for flag in flags:
        check_explained(flag)
    placeholders = ", ".join("?" for _ in sources)
    kept = {r[0] for r in store.query(
        f"SELECT flag_id FROM flags WHERE as_of = ? AND source IN ({placeholders}) AND status <> 'new'",
        [as_of, *sources])}
    store.execute(f"DELETE FROM flags WHERE as_of = ? AND source IN ({placeholders}) AND status = 'new'",
                  [as_of, *sources])
    new = [flag for flag in flags if flag.flag_id not in kept]
    if new:
        # one bulk insert: a national run writes tens of thousands of flags, and a statement
        # per flag cost about 2 ms each on DuckDB
        with store.registered("_openeis_new_flags", _flags_arrow(new, as_of)):
            store.execute(f"INSERT INTO flags ({', '.join(FLAG_COLUMNS)}) "
                          f"SELECT {', '.join(FLAG_COLUMNS)} FROM _openeis_new_flags")
    return {"written": len(new), "kept_in_review": len(kept)}


FLAG_COLUMNS = ("flag_id", "as_of", "officer", "source", "model_id", "score", "score_rank", "percentile",
                "rules", "explanation", "created_at", "queue")


def _flags_arrow(flags: list[Flag], as_of: date):
    import pyarrow as pa

    return pa.table({
        "flag_id": pa.array([f.flag_id for f in flags], pa.string()),
        "as_of": pa.array([as_of] * len(flags), pa.date32()),
        "officer": pa.array([f.officer for f in flags], pa.string()),
        "source": pa.array([f.source for f in flags], pa.string()),
        "model_id": pa.array([f.model_id for f in flags], pa.string()),
        "score": pa.array([f.score for f in flags], pa.float64()),
        "score_rank": pa.array([f.rank for f in flags], pa.int32()),
        "percentile": pa.array([f.percentile for f in flags], pa.float64()),
        "rules": pa.array([json.dumps(f.rules) for f in flags], pa.string()),
        "explanation": pa.array([json.dumps(f.explanation) for f in flags], pa.string()),
        "created_at": pa.array([_now()] * len(flags), pa.timestamp("us")),
        "queue": pa.array([f.queue for f in flags], pa.string()),
    })


def read_flags(store: Store, as_of: date | None = None, officer: str | None = None) -> list[dict]:
    where, params = [], []
    if as_of:
        where.append("as_of = ?")
        params.append(as_of)
    if officer:
        where.append("officer = ?")
        params.append(officer)
    sql = ("SELECT flag_id, as_of, officer, source, model_id, score, score_rank, percentile, rules, "
           "explanation, created_at, status, version, queue FROM flags")
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.query(sql + " ORDER BY as_of, source, score_rank, officer", params)
    return [{"flag_id": r[0], "as_of": r[1].isoformat(), "officer": r[2], "source": r[3],
             "model_id": r[4], "score": r[5], "rank": r[6], "percentile": r[7],
             "rules": json.loads(r[8]), "explanation": json.loads(r[9]),
             "created_at": r[10].isoformat(timespec="seconds"), "status": r[11], "version": r[12],
             "queue": r[13]}
            for r in rows]
