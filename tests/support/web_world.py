"""A small force for the web tests: synthetic records ingested into a real store (DuckDB file or
PostgreSQL database), flags with explanations on the latest month, scores on two dates, and
one account (with an API token) per role. Flags are written directly rather than by training
a model: the web tests are about reviewing flags, and the model tests cover how flags are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from openeis.flags.store import Flag, replace_flags
from openeis.governance.roles import Role
from openeis.governance.users import add_user, get_user
from openeis.ingest import ingest_canonical
from openeis.privacy import Pseudonymiser
from openeis.store import open_store
from openeis.synth import SynthOptions, generate_force
from openeis.governance.sign_in import create_token

KEY = bytes(range(32))
PASSWORD = "correct horse battery"
MODEL_ID = "m-web-test"


@dataclass
class World:
    url: str
    as_of: date
    unit_a: str
    unit_b: str
    flags_a: list[str]  # flag ids of officers in unit A
    flags_b: list[str]
    officer_self: str  # the officer account's own pseudonym (flagged, in unit A)
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> API token
    roles: dict[str, Role] = field(default_factory=dict)  # user name -> role


def _factors(value: float) -> list[dict]:
    return [
        {"feature": "complaints_count_1y", "value": value, "peer_median": 1.0, "peer_group": "unit and role",
         "contribution": 0.8, "sentence": f"{value:g} complaints in the last 12 months; peers in the same "
                                         "unit and role: median 1."},
        {"feature": "use_of_force_count_1y", "value": 5.0, "peer_median": 2.0, "peer_group": "unit and role",
         "contribution": 0.4, "sentence": "5 use-of-force reports in the last 12 months; peers in the same "
                                          "unit and role: median 2."},
    ]


def build_world(url: str, work: Path, officers: int = 150) -> World:
    generate_force(SynthOptions(officers=officers, years=3, seed=7, access_months=0), work / "force")
    store = open_store(url)
    try:
        store.migrate()
        ingest_canonical(store, work / "force", Pseudonymiser(KEY))
        last = store.scalar("SELECT max(recorded_at) FROM allegations")
        as_of = date(last.year, last.month, 1)
        # Units with the most officers posted on the date: A and B.
        postings = store.query(
            "SELECT unit_id, officer_id FROM postings WHERE occurred_at <= ? AND (ends_at IS NULL OR ends_at > ?) "
            "ORDER BY unit_id, officer_id", [as_of, as_of])
        by_unit: dict[str, list[str]] = {}
        for unit, officer in postings:
            by_unit.setdefault(unit, []).append(officer)
        unit_a, unit_b = sorted(by_unit, key=lambda u: (-len(by_unit[u]), u))[:2]
        chosen = [(o, unit_a) for o in by_unit[unit_a][:5]] + [(o, unit_b) for o in by_unit[unit_b][:3]]
        flags = []
        for rank, (officer, _) in enumerate(chosen, start=1):
            factors = _factors(float(10 - rank))
            flags.append(Flag(as_of, officer, "model",
                              {"sentences": [f["sentence"] for f in factors], "factors": factors,
                               "base": -3.0, "score_log_odds": -1.8, "other_factors": 0.0},
                              rules=[{"name": "complaints_12m", "description": "3 or more complaints in 12 months",
                                      "value": 10 - rank}],
                              model_id=MODEL_ID, score=0.5 - rank / 100, rank=rank,
                              percentile=100 - rank / 10))
        with store.transaction():
            replace_flags(store, as_of, MODEL_ID, flags)
            for offset, day in enumerate((date(as_of.year - 1, as_of.month, 1), as_of)):
                for rank, (officer, _) in enumerate(chosen, start=1):
                    store.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?)",
                                  [MODEL_ID, day, officer, 0.3 + offset / 10 - rank / 100, rank + 5 * (1 - offset),
                                   95.0 + offset * 4 - rank / 10])
        ids = {f.officer: f.flag_id for f in flags}
        world = World(url, as_of, unit_a, unit_b, [ids[o] for o, u in chosen if u == unit_a],
                      [ids[o] for o, u in chosen if u == unit_b], chosen[0][0])
        accounts = [("admin", Role.ADMINISTRATOR, [], None), ("rita", Role.REVIEWER, [unit_a], None),
                    ("ravi", Role.REVIEWER, [unit_a], None), ("rosa", Role.REVIEWER, [unit_b], None),
                    ("ana", Role.ANALYST, [], None), ("aude", Role.AUDITOR, [], None),
                    ("otto", Role.OFFICER, [], world.officer_self)]
        for name, role, scope, officer in accounts:
            add_user(store, name, role, PASSWORD, scope, officer)
            world.tokens[name] = create_token(store, get_user(store, name), "tests")
            world.roles[name] = role
        return world
    finally:
        store.close()
