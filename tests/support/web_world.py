"""A small force for the web tests: synthetic records ingested into a real store (DuckDB file or
PostgreSQL database), flags with explanations on the latest month, scores on two dates, and
one account (with an API token) per role. Flags are written directly rather than by training
a model: the web tests are about reviewing flags, and the model tests cover how flags are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import json
import pickle

from openeis.config import OpenEISConfig
from openeis.config.models import FlagsConfig
from openeis.flags.store import Flag, replace_flags
from openeis.ingest.identities import IdentitySealer
from openeis.ingest.reader import CanonicalFile, discover
from openeis.vault import PUBLIC_KEY_META, Sealer, create_vault_key
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
CANDIDATE_ID = "m-web-candidate"  # trained, never promoted: its flag must reach no queue
# A review budget that the world's flags overflow: 12 conduct items a period (6 model, 4
# detector, 2 rule to start with), so that some rule flags are not queued.
WEB_CONFIG = OpenEISConfig(flags=FlagsConfig(top_n=12))


@dataclass
class World:
    url: str
    as_of: date
    unit_a: str
    unit_b: str
    flags_a: list[str]  # flag ids of officers in unit A
    flags_b: list[str]
    officer_self: str  # the officer account's own pseudonym (flagged, in unit A)
    staff_self: str = ""  # officer_self's staff number, as sealed in the identity vault
    vault_key_file: Path | None = None
    detector_flag: str = ""  # a conduct integrity hit in unit B, with its evidence records
    welfare_flag: str = ""  # an attendance (Bradford) prompt in unit A: the welfare queue
    rule_flags: list[str] = field(default_factory=list)  # rule flags in unit B (some not queued)
    candidate_flag: str = ""  # a flag of a model that is not live
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> API token
    roles: dict[str, Role] = field(default_factory=dict)  # user name -> role


def _factors(value: float) -> list[dict]:
    return [
        {"feature": "complaints_count_1y", "value": value, "peer_median": 1.0, "peer_group": "unit and role",
         "contribution": 0.8, "sentence": f"{value:g} complaints in the last 12 months; peers in the same "
                                         "unit and role: median 1.",
         "label": "Complaints in the last 12 months", "peer_percentile": 96.0},
        {"feature": "use_of_force_count_1y", "value": 5.0, "peer_median": 2.0, "peer_group": "unit and role",
         "contribution": 0.4, "sentence": "5 use-of-force reports in the last 12 months; peers in the same "
                                          "unit and role: median 2.",
         "label": "Uses of force in the last 12 months", "peer_percentile": 81.5},
        {"feature": "overtime_hours_sum_1y", "value": 1030.4, "peer_median": 212.0, "peer_group": "unit and role",
         "contribution": 0.2, "sentence": "1,030 overtime hours in the last 12 months; peers in the same unit "
                                          "and role: median 212.",
         "label": "Overtime hours in the last 12 months", "peer_percentile": 99.0},
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
        extra = _other_flags(store, as_of, by_unit, unit_a, unit_b, {o for o, _ in chosen})
        with store.transaction():
            replace_flags(store, as_of, MODEL_ID, flags)
            replace_flags(store, as_of, None, [f for f in extra if f.source == "rule"], sources=("rule",))
            replace_flags(store, as_of, None, [f for f in extra if f.source == "detector"], sources=("detector",))
            for model_id, status in ((MODEL_ID, "live"), (CANDIDATE_ID, "candidate")):
                store.execute("INSERT INTO model_registry VALUES (?, ?, 'sustained_12m', ?, '[]', 'logistic_c0.1', "
                              "'logistic', '{}', ?, ?, '0.1.0', '{}', ?, ?, ?)",
                              [model_id, datetime(as_of.year, 1, 1), as_of, "0" * 64, "0" * 64, status, *_artifact()])
            # a flag of the candidate (as written before only live models published) and its
            # shadow scores: neither may reach a reviewer
            candidate_flag = Flag(as_of, chosen[1][0], "model", {"sentences": [f["sentence"] for f in _factors(4.0)],
                                                                 "factors": _factors(4.0)},
                                  model_id=CANDIDATE_ID, score=0.4, rank=1, percentile=99.9)
            # (written directly: replace_flags would replace the date's new model flags)
            store.execute("INSERT INTO flags (flag_id, as_of, officer, source, model_id, score, score_rank, "
                          "percentile, rules, explanation, created_at, queue) VALUES (?, ?, ?, 'model', ?, ?, ?, ?, "
                          "'[]', ?, ?, 'conduct')",
                          [candidate_flag.flag_id, as_of, candidate_flag.officer, CANDIDATE_ID, 0.4, 1, 99.9,
                           json.dumps(candidate_flag.explanation), datetime(as_of.year, as_of.month, 1)])
            for rank, (officer, _) in enumerate(chosen, start=1):
                store.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?)",
                              [CANDIDATE_ID, as_of, officer, 0.35 - rank / 100, rank, 99.0 - rank / 10])
            _audit(store, as_of, [o for o, _ in chosen])
            for offset, day in enumerate((date(as_of.year - 1, as_of.month, 1), as_of)):
                for rank, (officer, _) in enumerate(chosen, start=1):
                    store.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?)",
                                  [MODEL_ID, day, officer, 0.3 + offset / 10 - rank / 100, rank + 5 * (1 - offset),
                                   95.0 + offset * 4 - rank / 10])
        ids = {f.officer: f.flag_id for f in flags}
        world = World(url, as_of, unit_a, unit_b, [ids[o] for o, u in chosen if u == unit_a],
                      [ids[o] for o, u in chosen if u == unit_b], chosen[0][0])
        world.candidate_flag = candidate_flag.flag_id
        world.detector_flag = next(f.flag_id for f in extra if f.source == "detector" and f.queue == "conduct")
        world.welfare_flag = next(f.flag_id for f in extra if f.queue == "welfare")
        world.rule_flags = [f.flag_id for f in extra if f.source == "rule"]
        world.vault_key_file, world.staff_self = _vault(store, work, world.officer_self)
        accounts = [("admin", Role.ADMINISTRATOR, [], None), ("rita", Role.REVIEWER, [unit_a], None),
                    ("ravi", Role.REVIEWER, [unit_a], None), ("rosa", Role.REVIEWER, [unit_b], None),
                    ("ana", Role.ANALYST, [], None), ("aude", Role.AUDITOR, [], None),
                    ("otto", Role.OFFICER, [], world.officer_self), ("wendy", Role.WELFARE, [unit_a], None)]
        for name, role, scope, officer in accounts:
            add_user(store, name, role, PASSWORD, scope, officer)
            world.tokens[name] = create_token(store, get_user(store, name), "tests")
            world.roles[name] = role
        return world
    finally:
        store.close()


def _artifact() -> tuple[bytes, str]:
    import hashlib

    artifact = pickle.dumps(None)  # never loaded: the web tests review flags, not score
    return artifact, hashlib.sha256(artifact).hexdigest()


def _other_flags(store, as_of: date, by_unit: dict, unit_a: str, unit_b: str, taken: set) -> list[Flag]:
    """An integrity hit with its records (unit B), an attendance prompt (unit A) and rule flags
    (unit B and others), as `openeis detect` and `openeis score` write them."""
    out = []
    in_b = [o for o in by_unit[unit_b] if o not in taken]
    claims = store.query("SELECT officer_id, claim_id FROM overtime_claims WHERE officer_id IN (" +
                         ", ".join("?" for _ in in_b) + ") ORDER BY officer_id, claim_id", in_b)
    officer = claims[0][0]
    absences = [r[0] for r in store.query("SELECT absence_id FROM absences WHERE officer_id = ? ORDER BY absence_id",
                                          [officer])][:2]
    evidence = [{"table": "overtime_claims", "record": c} for o, c in claims if o == officer][:3]
    evidence += [{"table": "absences", "record": a} for a in absences]
    out.append(Flag(as_of, officer, "detector", {
        "sentences": ["Overtime claimed for duty between 01 Mar 2017 and 03 Mar 2017 inside recorded absence "
                      "(unfit for duty): 2 claims, 1 absence record.",
                      "Overtime and absence records may simply disagree: check both before drawing any conclusion."],
        "detector": "overtime_during_sickness", "prompt_kind": "integrity", "evidence": evidence,
        "evidence_total": len(evidence), "measures": {"claims": 2}}, model_id="detector:overtime_during_sickness"))
    sick: dict[str, list[str]] = {}
    for who, absence in store.query(
            "SELECT officer_id, absence_id FROM absences WHERE kind = 'sickness' AND officer_id IN ("
            + ", ".join("?" for _ in by_unit[unit_a]) + ") ORDER BY officer_id, absence_id", by_unit[unit_a]):
        sick.setdefault(who, []).append(absence)
    welfare_officer = next((o for o in sick if o not in taken), next(iter(sick), by_unit[unit_a][-1]))
    welfare_ids = sick.get(welfare_officer, [])
    out.append(Flag(as_of, welfare_officer, "detector", {
        "sentences": ["Bradford factor 2,400 over the 365 days from 01 Jan 2017: 6 sickness spells of at most 7 "
                      "days, 10 days in all.", "A welfare prompt under the attendance policy, for a supportive "
                      "conversation: not a misconduct concern."],
        "detector": "high_bradford_factor", "prompt_kind": "welfare",
        "evidence": [{"table": "absences", "record": a} for a in welfare_ids[:5]],
        "evidence_total": len(welfare_ids), "measures": {"bradford_factor": 2400.0}},
        model_id="detector:high_bradford_factor", queue="welfare"))
    others = [o for u, officers in sorted(by_unit.items()) if u != unit_a for o in officers if o not in taken]
    for number, who in enumerate(others[:6]):
        value = 3 + number
        out.append(Flag(as_of, who, "rule", {"summary": "Triggered a department threshold rule.",
                                              "sentences": [f"Threshold rule: 3 or more uses of force in 90 days "
                                                            f"(this officer: {value})."]},
                        [{"name": "use_of_force_3_in_90d", "description": "3 or more uses of force in 90 days",
                          "value": value, "sentence": "..."}]))
    return out


def _vault(store, work: Path, officer: str) -> tuple[Path, str]:
    """The store's identity vault, sealed as `openeis init` and `ingest` would: the key file in
    the work folder, the public half in the store. Returns the key file and the officer's
    staff number."""
    key_file = work / "web.vault.key"
    public = create_vault_key(key_file)
    store.set_meta(PUBLIC_KEY_META, public.decode())
    officers = CanonicalFile(next(s for s in discover(work / "force")[0] if s.table.name == "officers"))
    IdentitySealer(Sealer(public), Pseudonymiser(KEY))(store, officers)
    pseudonymiser = Pseudonymiser(KEY)
    staff = next(raw for batch in officers.batches() for raw in batch.column("officer_id").to_pylist()
                 if pseudonymiser.pseudonym("officer", raw) == officer)
    return key_file, staff


def _audit(store, as_of: date, flagged: list[str]) -> None:
    """A bias audit of the live model as `openeis audit` records it (flags and outcomes made up
    for the page: every fifth officer had the outcome)."""
    import pandas as pd

    from openeis.audit import audit_json, gate_decision, read_characteristics, run_audit
    from openeis.audit.rows import audit_rows
    from openeis.config.audit import AuditConfig

    officers = [r[0] for r in store.query("SELECT officer_id FROM officers ORDER BY officer_id")]
    scored = pd.DataFrame({"officer": officers, "as_of": as_of, "flag": [int(o in flagged) for o in officers],
                           "label": [int(i % 5 == 0) for i in range(len(officers))], "score": 0.1})
    config = AuditConfig(bootstrap_replicates=200)
    result = run_audit(audit_rows(scored, read_characteristics(store), config), config)
    gate = gate_decision(result, config)
    document = {"audit_id": "a-web-test", "model_id": MODEL_ID, "label": "sustained_12m",
                "as_of": as_of.isoformat()} | audit_json(result)
    store.execute("INSERT INTO model_audits VALUES ('a-web-test', ?, ?, ?, ?, ?)",
                  [MODEL_ID, as_of, datetime(as_of.year, as_of.month, 1), bool(gate.allowed),
                   json.dumps(document)])
