"""Benchmark: server time of each web page at the national synthetic scale.

    .venv/bin/python benchmarks/bench_web.py --officers 150000

Uses the store benchmarks/bench_features.py loads (synthetic force, --officers x 10 years, in
/tmp/openeis-bench), copied so that it stays as it was. Adds what the pages read at that scale:
scores for every officer in the cohort on 12 monthly dates, flags for the top 2% on the last
date (each with an explanation of the size real ones have), one account per role, and
--log-entries access-log entries (written straight into the table: the chain of those is not
valid, and verification is not what is timed). Then each page is requested --repeat times
in-process (FastAPI's TestClient: routing, store queries, template rendering; no network) and
the median is reported. The target: every page under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from openeis.features.dates import add_months
from openeis.governance.roles import Role
from openeis.governance.users import add_user, get_user
from openeis.store import open_store
from openeis.governance.sign_in import create_token

PASSWORD = "benchmark password"


def prepare(source: Path, target: Path, log_entries: int, seed: int = 1) -> dict:
    shutil.copyfile(source, target)
    store = open_store(str(target))
    store.migrate()
    rng = np.random.default_rng(seed)
    last = store.scalar("SELECT max(recorded_at) FROM allegations")
    as_of = date(last.year, last.month, 1)
    cohort = [r[0] for r in store.query(
        "SELECT DISTINCT officer_id FROM postings WHERE occurred_at <= ? AND (ends_at IS NULL OR ends_at > ?) "
        "ORDER BY officer_id", [as_of, as_of])]
    n = len(cohort)
    dates = [add_months(as_of, -k) for k in range(11, -1, -1)]
    model_id = "m-bench"
    for day in dates:
        scores = rng.beta(1, 20, n)
        order = np.argsort(-scores, kind="stable")
        rank = np.empty(n, dtype=np.int32)
        rank[order] = np.arange(1, n + 1)
        table = pa.table({"model_id": [model_id] * n, "as_of": [day] * n, "officer": cohort, "score": scores,
                          "score_rank": rank, "percentile": 100.0 * (1 - (rank - 1) / n)})
        with store.registered("bench_scores", table):
            store.execute("INSERT INTO scores SELECT * FROM bench_scores")
    top = order[: max(1, n // 50)]  # the last date's top 2%
    created = datetime.now()
    rows = []
    for position, i in enumerate(top, start=1):
        factors = [{"feature": f"feature_{k}", "value": float(10 - k), "peer_median": 1.0, "peer_group": "unit and role",
                    "contribution": 0.5 / (k + 1), "sentence": f"{10 - k} events of kind {k} in the last 12 months; "
                    "peers in the same unit and role: median 1."} for k in range(4)]
        explanation = {"sentences": [f["sentence"] for f in factors], "factors": factors, "base": -3.0,
                       "score_log_odds": -1.0, "other_factors": 0.1}
        rows.append((f"f-bench-{position:06d}", as_of, cohort[i], "model", model_id, float(scores[i]), position,
                     100.0 * (1 - (position - 1) / n), json.dumps([]), json.dumps(explanation), created, "new", 1))
    flags = pa.table(list(zip(*rows)), names=["flag_id", "as_of", "officer", "source", "model_id", "score",
                                               "score_rank", "percentile", "rules", "explanation", "created_at",
                                               "status", "version"])
    with store.registered("bench_flags", flags):
        store.execute("INSERT INTO flags SELECT * FROM bench_flags")
    units = store.query("SELECT unit_id, count(*) FROM postings WHERE occurred_at <= ? AND (ends_at IS NULL OR "
                        "ends_at > ?) GROUP BY unit_id ORDER BY 2 DESC, 1 LIMIT 1", [as_of, as_of])
    tokens = {}
    for name, role, scope in (("admin", Role.ADMINISTRATOR, []), ("reviewer", Role.REVIEWER, [units[0][0]]),
                              ("auditor", Role.AUDITOR, [])):
        add_user(store, name, role, PASSWORD, scope)
        tokens[name] = create_token(store, get_user(store, name), "bench")
    if log_entries:
        seq = np.arange(1, log_entries + 1)
        log = pa.table({"seq": seq, "logged_at": [created] * log_entries, "actor": ["reviewer"] * log_entries,
                        "role": ["reviewer"] * log_entries, "action": ["read"] * log_entries,
                        "resource": ["flags"] * log_entries,
                        "records": [json.dumps({"flag": f"f-bench-{k % 3000:06d}"}) for k in range(log_entries)],
                        "purpose": ["review a flag"] * log_entries, "outcome": ["allowed"] * log_entries,
                        "reason": [None] * log_entries, "previous_hash": ["0" * 64] * log_entries,
                        "entry_hash": ["0" * 64] * log_entries})
        with store.registered("bench_log", log):
            store.execute("INSERT INTO access_log SELECT * FROM bench_log")
    flagged_officer = cohort[top[0]]
    store.close()
    return {"as_of": as_of.isoformat(), "cohort": n, "flags": len(rows), "score_rows": n * len(dates),
            "log_entries": log_entries, "reviewer_unit": units[0][0], "reviewer_unit_officers": units[0][1],
            "officer": flagged_officer, "tokens": tokens}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=150000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/openeis-bench"))
    parser.add_argument("--log-entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    source = args.work / f"store-{args.officers}x{args.years}.duckdb"
    if not source.exists():
        sys.exit(f"{source} missing: run benchmarks/bench_features.py --officers {args.officers} first")
    target = args.work / f"web-{args.officers}x{args.years}.duckdb"
    started = time.perf_counter()
    setup = prepare(source, target, args.log_entries)
    setup_seconds = time.perf_counter() - started

    from fastapi.testclient import TestClient

    from openeis.web.app import create_app

    started = time.perf_counter()
    client = TestClient(create_app(str(target), bytes(range(32))))  # builds the lookup indexes
    index_seconds = time.perf_counter() - started
    admin = {"Authorization": f"Bearer {setup['tokens']['admin']}"}
    sessions = {}
    for name in ("admin", "reviewer", "auditor"):
        c = TestClient(client.app)
        import re

        token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"name": name, "password": PASSWORD, "login_token": token, "next": "/"},
               follow_redirects=False)
        sessions[name] = c
    pages = [
        ("queue, administrator (first page of the date's flags)", "admin", "/queue"),
        ("queue, administrator, page 20", "admin", "/queue?page=20"),
        ("queue, reviewer (one unit)", "reviewer", "/queue"),
        ("flag", "admin", "/flags/f-bench-000001"),
        ("officer profile", "admin", f"/officers/{setup['officer']}"),
        ("models", "admin", "/models"),
        ("bias audit", "auditor", "/audit"),
        ("access log (newest 100)", "auditor", "/access-log"),
        ("transparency", "admin", "/transparency"),
        ("API: queue as JSON (100 flags)", None, "/api/flags"),
        ("API: queue as JSON (1,000 flags)", None, "/api/flags?limit=1000"),
    ]
    results = []
    for label, user, path in pages:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            response = sessions[user].get(path) if user else client.get(path, headers=admin)
            times.append(time.perf_counter() - t)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
        results.append({"page": label, "path": path, "median_ms": round(1000 * statistics.median(times), 1),
                        "max_ms": round(1000 * max(times), 1), "bytes": len(response.content)})
    import os

    print(json.dumps({"officers": args.officers, "setup_seconds": round(setup_seconds, 1),
                      "index_seconds": round(index_seconds, 1),
                      **{k: v for k, v in setup.items() if k != "tokens"},
                      "load_average": [round(x, 2) for x in os.getloadavg()], "pages": results}, indent=1))


if __name__ == "__main__":
    main()
