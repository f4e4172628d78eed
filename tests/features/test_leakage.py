"""No leakage, property-based: what was recorded or decided after D cannot change D's features.

For a random small store and as-of date D, a *modified* copy of the force is made in which
every record recorded after D is deleted or altered, every decision made after D is altered
(another finding, another date, or back to undecided), every span's end after D is moved,
and new records recorded after D are added. Both forces live in one store under different
pseudonyms (and units and complaints), so one build computes both; every feature row on D
must be identical. A second as-of date is built alongside so that the one-pass computation
across dates is exercised too.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from openeis.features import FeaturesConfig, features_table
from openeis.schema import ALLEGATION_CATEGORIES, DECIDED_FINDINGS, FORCE_TYPES
from support.feature_stores import make_store

START = datetime(2018, 1, 1)
SPAN_DAYS = 3 * 365


def _t(day: float) -> datetime:
    return START + timedelta(days=day)


def _random_force(rng: random.Random) -> dict[str, list[dict]]:
    officers = [f"o{i}" for i in range(4)]
    rows: dict[str, list[dict]] = {k: [] for k in (
        "units", "officers", "postings", "complaints", "allegations", "use_of_force", "absences",
        "duty_periods", "overtime_claims", "system_access", "other_events", "declarations",
        "training", "commendations", "performance_reviews", "shift_swaps")}
    rows["units"].append({"unit_id": "U1", "function": "response", "recorded_at": START})
    n = 0

    def key(prefix: str) -> str:
        nonlocal n
        n += 1
        return f"{prefix}{n}"

    def times(decided: bool = False):
        occ = rng.uniform(0, SPAN_DAYS)
        rec = occ + rng.choice([0, 0, rng.uniform(0, 200), -rng.uniform(0, 5)])
        dec = rec + rng.uniform(0, 300) if decided else None
        out = {"occurred_at": _t(occ), "recorded_at": _t(max(rec, 0))}
        return out, (_t(dec) if dec is not None else None)

    for o in officers:
        joined = rng.uniform(-800, 600)
        left = joined + rng.uniform(200, 2000) if rng.random() < 0.3 else None
        rows["officers"].append({"officer_id": o, "rank": "constable", "joined_at": _t(joined),
                                 "left_at": _t(left) if left else None,
                                 "recorded_at": _t(joined + rng.choice([0, 0, 40]))})
        start = joined
        for _ in range(rng.randint(1, 3)):
            end = start + rng.uniform(100, 700)
            rows["postings"].append({
                "posting_id": key("p"), "officer_id": o, "unit_id": "U1",
                "role": rng.choice(["patrol", "custody"]), "rank": rng.choice(["constable", "sergeant"]),
                "occurred_at": _t(start), "ends_at": _t(end) if rng.random() < 0.7 else None,
                "recorded_at": _t(start + rng.choice([0, -10, 30]))})
            start = end
    for _ in range(rng.randint(2, 6)):
        c = key("k")
        tm, _ = times()
        rows["complaints"].append({"complaint_id": c, "source": "public", **tm})
        for o in rng.sample(officers, rng.randint(1, 3)):
            tm2, dec = times(decided=rng.random() < 0.7)
            finding = rng.choice(DECIDED_FINDINGS) if dec else "open"
            rows["allegations"].append({
                "allegation_id": key("a"), "complaint_id": c, "officer_id": o,
                "category": rng.choice(ALLEGATION_CATEGORIES[:4]), "finding": finding,
                "outcome": rng.choice(["none", "written_warning"]) if dec else None,
                "decided_at": dec, **tm2})
    for o in officers:
        for _ in range(rng.randint(0, 3)):
            tm, _ = times()
            rows["use_of_force"].append({"use_of_force_id": key("u"), "officer_id": o,
                                         "force_type": rng.choice(FORCE_TYPES[:4]),
                                         "subject_injured": rng.random() < 0.3, **tm})
        for _ in range(rng.randint(0, 3)):
            tm, _ = times()
            length = rng.uniform(0, 60)
            rows["absences"].append({"absence_id": key("s"), "officer_id": o,
                                     "kind": rng.choice(["sickness", "sickness", "annual_leave"]),
                                     "ends_at": tm["occurred_at"] + timedelta(days=length)
                                     if rng.random() < 0.8 else None, **tm})
        for _ in range(rng.randint(0, 3)):
            tm, _ = times()
            rows["duty_periods"].append({"duty_period_id": key("d"), "officer_id": o,
                                         "planned_shifts": 20, "shifts_worked": rng.randint(5, 20),
                                         "hours_on_duty": 150.0, "arrests": rng.randint(0, 5),
                                         "ends_at": tm["occurred_at"] + timedelta(days=29), **tm})
        for _ in range(rng.randint(0, 2)):
            tm, dec = times(decided=rng.random() < 0.8)
            rows["overtime_claims"].append({"claim_id": key("c"), "officer_id": o, "hours": 3.0,
                                            "rate": "plain", "decided_at": dec,
                                            "status": rng.choice(["approved", "rejected"]) if dec else "pending",
                                            **tm})
        for _ in range(rng.randint(0, 3)):
            tm, _ = times()
            rows["system_access"].append({"access_id": key("x"), "officer_id": o, "record_kind": "person",
                                          "case_reference": None if rng.random() < 0.5 else "C1", **tm})
        for _ in range(rng.randint(0, 2)):
            tm, dec = times(decided=rng.random() < 0.5)
            rows["other_events"].append({"event_id": key("e"), "officer_id": o,
                                         "event_type": rng.choice(["vehicle_accident", "pursuit"]),
                                         "outcome": rng.choice(["blameworthy", "collision"]) if dec else None,
                                         "decided_at": dec, **tm})
        for _ in range(rng.randint(0, 2)):
            tm, dec = times(decided=rng.random() < 0.7)
            rows["declarations"].append({"declaration_id": key("g"), "officer_id": o,
                                         "kind": "business_interest",
                                         "decision": rng.choice(["approved", "refused"]) if dec else "pending",
                                         "decided_at": dec, "ends_at": None, **tm})
        tm, _ = times()
        rows["training"].append({"training_id": key("t"), "officer_id": o, "category": "mandatory",
                                 "result": rng.choice(["missed", "passed"]), **tm})
        tm, _ = times()
        rows["commendations"].append({"commendation_id": key("m"), "officer_id": o, "kind": "other", **tm})
        tm, _ = times()
        rows["performance_reviews"].append({"review_id": key("r"), "officer_id": o, "rating": "below", **tm})
        tm, _ = times()
        rows["shift_swaps"].append({"swap_id": key("w"), "officer_id": o, "premium_day": True, **tm})
    return rows


DECISION = {"allegations": ("finding", ["open"], list(DECIDED_FINDINGS)),
            "overtime_claims": ("status", ["pending"], ["approved", "rejected"]),
            "declarations": ("decision", ["pending"], ["approved", "refused", "noted"]),
            "other_events": ("outcome", [None], ["blameworthy", "collision", "other"])}


def _modified(rows: dict[str, list[dict]], d: datetime, rng: random.Random) -> dict[str, list[dict]]:
    """Change everything the force could not have known on d."""
    out: dict[str, list[dict]] = {}
    for name, records in rows.items():
        kept = []
        for r in records:
            r = dict(r)
            if name not in ("units", "officers") and r["recorded_at"] >= d:
                if rng.random() < 0.5:
                    continue  # deleted
                r["occurred_at"] = d + timedelta(days=rng.uniform(-400, 100))  # altered
                if "category" in r:
                    r["category"] = "discrimination"
                if "force_type" in r:
                    r["force_type"] = "baton"
            if name in DECISION and r.get("decided_at") and r["decided_at"] >= d:
                column, undecided, decided = DECISION[name]
                if rng.random() < 0.5:
                    r[column], r["decided_at"] = undecided[0], None
                else:
                    r[column] = rng.choice(decided)
                    r["decided_at"] = d + timedelta(days=rng.uniform(0.5, 300))
                if name == "allegations":
                    r["outcome"] = None if r["decided_at"] is None else "reprimand"
            if "ends_at" in r and name in ("absences", "declarations", "postings") and (
                    r["ends_at"] is None or r["ends_at"] >= d) and r["occurred_at"] <= d:
                r["ends_at"] = rng.choice([None, d + timedelta(days=rng.uniform(1, 90))])
            kept.append(r)
        out[name] = kept
    # added after d: new allegations on a new complaint and new force reports
    added = d + timedelta(days=rng.uniform(0.5, 50))
    out["complaints"].append({"complaint_id": "knew", "source": "public", "occurred_at": d - timedelta(days=3),
                              "recorded_at": added})
    for o in ("o0", "o1"):
        out["allegations"].append({"allegation_id": f"anew{o}", "complaint_id": "knew", "officer_id": o,
                                   "category": "corruption", "finding": "upheld", "outcome": "dismissal",
                                   "occurred_at": d - timedelta(days=3), "recorded_at": added,
                                   "decided_at": added + timedelta(days=1)})
        out["use_of_force"].append({"use_of_force_id": f"unew{o}", "officer_id": o, "force_type": "baton",
                                    "subject_injured": True, "occurred_at": d - timedelta(days=1),
                                    "recorded_at": added})
        out["absences"].append({"absence_id": f"snew{o}", "officer_id": o, "kind": "sickness",
                                "occurred_at": d - timedelta(days=20), "ends_at": d,
                                "recorded_at": added})
    return out


PSEUDO = {"officer_id", "other_officer_id", "complaint_id", "unit_id"}


def _prefixed(rows: dict[str, list[dict]], prefix: str) -> dict[str, list[dict]]:
    return {name: [{k: (f"{prefix}{v}" if k in PSEUDO and v is not None else v) for k, v in r.items()}
                   for r in records]
            for name, records in rows.items()}


def _merge(*forces):
    out: dict[str, list[dict]] = {}
    for f in forces:
        for name, records in f.items():
            out.setdefault(name, []).extend(records)
    # record keys must be unique across the two copies
    for records in out.values():
        for i, r in enumerate(records):
            for k in r:
                if k.endswith("_id") and k not in PSEUDO and k not in ("incident_id", "subject_id"):
                    r[k] = f"{r[k]}#{i}"
    return out


FORCES_PER_EXAMPLE = 3


@settings(max_examples=5, deadline=None, derandomize=True)
@given(seeds=st.lists(st.integers(0, 2**31 - 1), min_size=FORCES_PER_EXAMPLE, max_size=FORCES_PER_EXAMPLE),
       as_of_day=st.integers(60, SPAN_DAYS - 30), other_offset=st.integers(1, 400))
def test_records_and_decisions_after_the_as_of_date_change_nothing(tmp_path_factory, seeds, as_of_day,
                                                                     other_offset):
    # several independent forces per example (one build for all: builds dominate the time)
    d = datetime.combine(_t(as_of_day).date(), datetime.min.time())
    other = d - timedelta(days=other_offset)
    parts = []
    for j, seed in enumerate(seeds):
        rng = random.Random(seed)
        original = _random_force(rng)
        changed = _modified(original, d, rng)
        parts += [_prefixed(original, f"A{j}_"), _prefixed(changed, f"B{j}_")]
    store = make_store(tmp_path_factory.mktemp("leak") / "s.duckdb", _merge(*parts))
    try:
        table = features_table(store, [d.date(), other.date()], FeaturesConfig(peer_min_size=2))
    finally:
        store.close()
    rows: dict[str, dict] = {}
    for row in table.to_pylist():
        if row["as_of"] != d:
            continue
        variant, officer = row["officer"].split("_", 1)
        force = variant[1:]
        rows.setdefault(f"{force}:{officer}", {})[variant[0]] = {
            k: (v.split("_", 1)[1] if k == "peer_unit" and v else v) for k, v in row.items() if k != "officer"}
    assert rows, "the cohort on d is empty"
    for officer, variants in rows.items():
        assert set(variants) == {"A", "B"}, f"{officer} is in one cohort only"
        a, b = variants["A"], variants["B"]
        diff = {k: (a[k], b[k]) for k in a if a[k] != b[k] and not (a[k] != a[k] and b[k] != b[k])}
        assert not diff, f"officer {officer} on {d.date()}: features changed by later records: {diff}"
