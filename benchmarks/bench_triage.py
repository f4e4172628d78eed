"""Side by side with dssg/triage (issue 9): the same synthetic force, as-of dates and label.

    .venv/bin/python benchmarks/bench_triage.py [--officers 2000] [--years 8] [--seed 1] \
        [--test-dates 2020-01-01,2021-01-01] [--work /tmp/triage-bench] [--parts openeis,triage]

triage runs in its own virtualenv (its pins clash with OpenEIS's):
    python3.11 -m venv .venv-triage && .venv-triage/bin/pip install "triage==6.0.0" "pyarrow<18" lightgbm

1. `openeis synth` writes the force (canonical CSV).
2. OpenEIS: `openeis init`, `openeis ingest --format canonical`, `openeis backtest --as-of
   <test dates>` with a TOML (written beside the store) that restricts the main feature windows
   to 1y, 3y and all, the grid to one logistic regression and one LightGBM, the threshold rules
   to one rule (complaints in the last year >= 2), and review capacity to the top 100.
   Timed: ingest + backtest (the features are built inside the backtest).
3. triage: a throwaway PostgreSQL server (tests/support/postgres_server.py), the officers, allegations
   (with their complaint's recorded date, their finding and its decision date) and uses of force
   loaded into it, a triage experiment config (yearly as-of dates, 1-year label, aggregations
   over 1y/3y/all, SimpleThresholder on complaints in 1y >= 2, ScaledLogisticRegression,
   LightGBM), run with `triage.experiments.SingleThreadedExperiment` in the .venv-triage
   interpreter (a subprocess). Timed: loading PostgreSQL + the experiment.
4. Precision of the top 100 on each test date: OpenEIS's `precision_at_capacity` (capacity =
   `[flags] top_n` = 100) from the backtest JSON; triage's `precision@` / `100_abs`
   (stochastic value: ties broken at random, triage's own default) from test_results.evaluations.
   Prints one JSON summary (also written to WORK/summary.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OPENEIS = REPO / ".venv" / "bin" / "openeis"
TRIAGE_PYTHON = REPO / ".venv-triage" / "bin" / "python"
RULE_MIN_COMPLAINTS_1Y = 2  # the one threshold rule both systems run
TOP_K = 100

OPENEIS_TOML = """\
[features]
windows = ["1y", "3y", "all"]
# The prior-count baseline reads complaints_count_5y; with no 5y main window, alias the all-time count
# (information the models already have). Family-specific windows of the built-in set stay.
derived = [{{name = "complaints_count_5y", expression = "complaints_count_all"}}]

[splits]
start = "{start}"
end = "{end}"
frequency_months = 12
label = "sustained_12m"

[models]
logistic_c = [0.1]
lightgbm = [{{num_leaves = 15, n_estimators = 200, learning_rate = 0.05, min_child_samples = 50, colsample_bytree = 0.5, max_bin = 63}}]

[flags]
top_n = {top_k}

[rules]
rules = [{{name = "complaints_{rule}_in_1y", description = "{rule} or more complaints in the last year", features = ["complaints_count_1y"], at_least = {rule}.0}}]
"""


def run(command: list[str], log: Path, env: dict | None = None) -> float:
    started = time.perf_counter()
    with open(log, "a") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}; see {log}")
    return time.perf_counter() - started


def generate(work: Path, officers: int, years: int, seed: int) -> Path:
    force = work / "force"
    run([str(OPENEIS), "synth", "--officers", str(officers), "--years", str(years), "--seed", str(seed),
         "--out", str(force)], work / "synth.log")
    return force


# ---------------------------------------------------------------- OpenEIS


def run_openeis(work: Path, force: Path, start: str, test_dates: list[str]) -> dict:
    side = work / "openeis"
    side.mkdir(parents=True, exist_ok=True)
    for stale in side.glob("openeis.*"):
        stale.unlink()
    config = side / "openeis.toml"
    config.write_text(OPENEIS_TOML.format(start=start, end=test_dates[-1], top_k=TOP_K, rule=RULE_MIN_COMPLAINTS_1Y))
    env = {**os.environ, "OPENEIS_CONFIG": str(config), "OPENEIS_STORE": str(side / "openeis.duckdb"),
           "OPENEIS_KEY_FILE": str(side / "openeis.key")}
    log = side / "openeis.log"
    init = run([str(OPENEIS), "init"], log, env)
    ingest = run([str(OPENEIS), "ingest", "--format", "canonical", str(force)], log, env)
    out = side / "backtest.json"
    backtest = run([str(OPENEIS), "backtest", "--as-of", ",".join(test_dates), "--json", str(out)], log, env)
    return {"seconds": {"init": init, "ingest": ingest, "backtest": backtest, "total": init + ingest + backtest},
            "precision_top_100": openeis_precision(json.loads(out.read_text()))}


def openeis_precision(backtest: dict) -> dict:
    """{method: {as_of: precision}}: precision_at_capacity (capacity = top_n = 100) for each
    model and the prior-count ranking; for the rule, the precision of everyone it flags
    (it ranks nobody: a flag is 0/1), with the number flagged."""
    result: dict[str, dict] = {}
    for date in backtest["dates"]:
        assert date["capacity"] == TOP_K, date["capacity"]
        for name, metrics in date["models"].items():
            result.setdefault(name, {})[date["as_of"]] = metrics["precision_at_capacity"]
        result.setdefault("rule (all flagged)", {})[date["as_of"]] = {
            "precision": date["rule"]["precision"], "flags": date["rule"]["flags"]}
        result.setdefault("selected", {})[date["as_of"]] = date["selected"]
    return result


# ---------------------------------------------------------------- triage


def entity(officer_id: str) -> int:
    return int(officer_id[1:])  # W0012345 -> 12345: triage wants integer entity ids


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def load_postgres(url: str, force: Path) -> dict:
    """The events in the shape triage wants: one row per event, entity_id, knowledge date."""
    import psycopg

    complaints = {row["complaint_id"]: row["recorded_at"] for row in read_csv(force / "complaints.csv")}
    officers = [(entity(r["officer_id"]), r["joined_at"], r["left_at"] or None, r["recorded_at"])
                for r in read_csv(force / "officers.csv")]
    allegations = [(entity(r["officer_id"]), r["complaint_id"], r["category"], r["finding"], r["occurred_at"],
                    r["recorded_at"], r["decided_at"] or None, complaints[r["complaint_id"]])
                   for r in read_csv(force / "allegations.csv")]
    force_rows = [(entity(r["officer_id"]), r["force_type"], r["subject_injured"] == "true", r["occurred_at"],
                   r["recorded_at"]) for r in read_csv(force / "use_of_force.csv")]
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("""
            CREATE TABLE officers (entity_id int, joined_at date, left_at date, recorded_at date);
            -- an allegation exists from the later of its occurrence and its recording
            CREATE TABLE allegations (entity_id int, complaint_id text, category text, finding text,
                occurred_at date, recorded_at date, decided_at date, complaint_recorded_at date,
                knowledge_date date GENERATED ALWAYS AS (greatest(occurred_at, recorded_at)) STORED);
            CREATE TABLE use_of_force (entity_id int, force_type text, subject_injured bool,
                occurred_at date, recorded_at date,
                knowledge_date date GENERATED ALWAYS AS (greatest(occurred_at, recorded_at)) STORED);
        """)
        with db.cursor() as cur:
            with cur.copy("COPY officers FROM STDIN") as copy:
                for row in officers:
                    copy.write_row(row)
            with cur.copy("COPY allegations (entity_id, complaint_id, category, finding, occurred_at, recorded_at,"
                          " decided_at, complaint_recorded_at) FROM STDIN") as copy:
                for row in allegations:
                    copy.write_row(row)
            with cur.copy("COPY use_of_force (entity_id, force_type, subject_injured, occurred_at, recorded_at)"
                          " FROM STDIN") as copy:
                for row in force_rows:
                    copy.write_row(row)
        db.execute("""
            -- the officer's first allegation on each complaint: counts complaints
            CREATE TABLE complaints AS SELECT entity_id, complaint_id, min(knowledge_date) AS knowledge_date
                FROM allegations GROUP BY entity_id, complaint_id;
            -- a finding is known from its decision date only (no hindsight in the features)
            CREATE TABLE findings AS SELECT entity_id, finding, decided_at AS knowledge_date
                FROM allegations WHERE decided_at IS NOT NULL;
            CREATE INDEX ON officers (entity_id); CREATE INDEX ON allegations (entity_id, complaint_recorded_at);
            ANALYZE;
        """)
    return {"officers": len(officers), "allegations": len(allegations), "use_of_force": len(force_rows)}


COHORT = """
SELECT entity_id FROM officers
WHERE recorded_at <= '{as_of_date}'::date AND joined_at <= '{as_of_date}'::date
  AND (left_at IS NULL OR left_at > '{as_of_date}'::date)
"""

# sustained_12m: an upheld allegation on a complaint recorded in [D, D + 1 year), as known at the
# end of the data (triage labels with hindsight). Every cohort member gets a row (0 if none), so
# that test matrices have no missing labels.
LABEL = """
SELECT o.entity_id, coalesce(bool_or(a.finding = 'upheld'), false)::int AS outcome
FROM officers o LEFT JOIN allegations a ON a.entity_id = o.entity_id
  AND a.complaint_recorded_at >= '{as_of_date}'::date
  AND a.complaint_recorded_at < '{as_of_date}'::date + interval '{label_timespan}'
WHERE o.recorded_at <= '{as_of_date}'::date AND o.joined_at <= '{as_of_date}'::date
  AND (o.left_at IS NULL OR o.left_at > '{as_of_date}'::date)
GROUP BY o.entity_id
"""

INTERVALS = ["1y", "3y", "all"]
ZERO = {"all": {"type": "zero"}}


def triage_config(feature_start: str, first_train: str, test_dates: list[str], seed: int) -> dict:
    last_test = test_dates[-1]
    label_end = f"{int(last_test[:4]) + 1}{last_test[4:]}"
    train_years = int(test_dates[-1][:4]) - int(first_train[:4]) - 1
    return {
        "config_version": "v8",
        "model_comment": "openeis side by side",
        "random_seed": seed,
        "temporal_config": {
            "feature_start_time": feature_start, "feature_end_time": label_end,
            "label_start_time": first_train, "label_end_time": label_end,
            "model_update_frequency": "1y",
            "training_as_of_date_frequencies": ["1y"], "test_as_of_date_frequencies": ["1y"],
            "max_training_histories": [f"{train_years}y"], "test_durations": ["0d"],
            "training_label_timespans": ["1y"], "test_label_timespans": ["1y"],
        },
        "cohort_config": {"name": "serving", "query": COHORT},
        "label_config": {"name": "sustained_12m", "query": LABEL, "include_missing_labels_in_train_as": False},
        # short prefixes: PostgreSQL cuts identifiers at 63 characters (category names are long)
    "feature_aggregations": [
            {"prefix": "cmp", "from_obj": "complaints", "knowledge_date_column": "knowledge_date",
             "aggregates_imputation": ZERO, "aggregates": [{"quantity": {"n": "1"}, "metrics": ["count"]}],
             "intervals": INTERVALS, "groups": ["entity_id"]},
            {"prefix": "alg", "from_obj": "allegations", "knowledge_date_column": "knowledge_date",
             "aggregates_imputation": ZERO, "aggregates": [{"quantity": {"n": "1"}, "metrics": ["count"]}],
             "categoricals_imputation": ZERO,
             "categoricals": [{"column": "category", "choice_query": "SELECT DISTINCT category FROM allegations",
                               "metrics": ["sum"]}],
             "intervals": INTERVALS, "groups": ["entity_id"]},
            {"prefix": "fnd", "from_obj": "findings", "knowledge_date_column": "knowledge_date",
             "aggregates_imputation": ZERO, "aggregates": [{"quantity": {"n": "1"}, "metrics": ["count"]}],
             "categoricals_imputation": ZERO,
             "categoricals": [{"column": "finding", "choice_query": "SELECT DISTINCT finding FROM findings",
                               "metrics": ["sum"]}],
             "intervals": INTERVALS, "groups": ["entity_id"]},
            {"prefix": "uof", "from_obj": "use_of_force", "knowledge_date_column": "knowledge_date",
             "aggregates_imputation": ZERO,
             "aggregates": [{"quantity": {"n": "1"}, "metrics": ["count"]},
                            {"quantity": {"injured": "subject_injured::int"}, "metrics": ["sum"]}],
             "intervals": INTERVALS, "groups": ["entity_id"]},
        ],
        "grid_config": {
            "triage.component.catwalk.baselines.thresholders.SimpleThresholder": {
                "rules": [[f"cmp_entity_id_1y_n_count >= {RULE_MIN_COMPLAINTS_1Y}"]],
                "logical_operator": ["or"]},
            "triage.component.catwalk.estimators.classifiers.ScaledLogisticRegression": {
                "C": [0.1], "penalty": ["l2"]},
            "lightgbm.LGBMClassifier": {
                "num_leaves": [15], "n_estimators": [200], "learning_rate": [0.05], "min_child_samples": [50],
                "colsample_bytree": [0.5], "max_bin": [63], "n_jobs": [2], "random_state": [seed],
                "verbose": [-1]},
        },
        "scoring": {
            "testing_metric_groups": [{"metrics": ["precision@", "recall@"], "thresholds": {"top_n": [TOP_K]}}],
            "training_metric_groups": [],
        },
        "individual_importance": {"methods": [], "n_ranks": 1},
    }


RUNNER = """
import json, sys, time
from triage.util.db import create_engine  # triage wants its SerializableDbEngine
from triage.experiments import SingleThreadedExperiment
config = json.load(open(sys.argv[1]))
experiment = SingleThreadedExperiment(config=config, db_engine=create_engine(sys.argv[2]),
                                      project_path=sys.argv[3], replace=True, save_predictions=False)
started = time.perf_counter()
experiment.run()
print(json.dumps({"experiment_seconds": time.perf_counter() - started}))
"""

RESULTS = """
SELECT m.model_type, e.evaluation_start_time::date, e.stochastic_value::float, e.best_value::float,
       e.worst_value::float,
       e.num_labeled_examples, e.num_positive_labels
FROM test_results.evaluations e JOIN triage_metadata.models m USING (model_id)
WHERE e.metric = 'precision@' AND e.parameter = '{k}_abs'
ORDER BY m.model_type, e.evaluation_start_time
"""


def run_triage(work: Path, force: Path, feature_start: str, first_train: str, test_dates: list[str],
               seed: int) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from support.postgres_server import start_server  # a throwaway cluster, stopped at exit

    import psycopg

    side = work / "triage"
    side.mkdir(parents=True, exist_ok=True)
    server = start_server()
    server.admin('CREATE DATABASE "triage_bench"')
    url = server.url("triage_bench")
    started = time.perf_counter()
    loaded = load_postgres(url, force)
    load_seconds = time.perf_counter() - started
    config = side / "experiment.json"
    config.write_text(json.dumps(triage_config(feature_start, first_train, test_dates, seed), indent=1))
    started = time.perf_counter()
    with open(side / "triage.log", "w") as log:
        result = subprocess.run([str(TRIAGE_PYTHON), "-c", RUNNER, str(config), url, str(side / "project")],
                                stdout=subprocess.PIPE, stderr=log, text=True)
    experiment_seconds = time.perf_counter() - started
    if result.returncode != 0:
        tail = (side / "triage.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"triage failed ({result.returncode}); log {side / 'triage.log'}:\n{tail}")
    precision: dict[str, dict] = {}
    with psycopg.connect(url) as db:
        for model, as_of, stochastic, best, worst, labelled, positives in db.execute(RESULTS.format(k=TOP_K)):
            if str(as_of) not in test_dates:
                continue  # triage also tests on earlier yearly dates (its splits walk back to the label start)
            precision.setdefault(model.rsplit(".", 1)[-1], {})[str(as_of)] = {
                "stochastic": stochastic, "best": best, "worst": worst, "cohort": labelled, "positives": positives}
    server.stop()
    return {"rows": loaded, "seconds": {"load_postgres": load_seconds, "experiment": experiment_seconds,
                                        "total": load_seconds + experiment_seconds},
            "precision_top_100": precision}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2015-01-01", help="first day of the synthetic data")
    parser.add_argument("--first-train", default="2016-01-01", help="first training as-of date")
    parser.add_argument("--test-dates", default="2020-01-01,2021-01-01")
    parser.add_argument("--work", type=Path, default=Path("/tmp/triage-bench"))
    parser.add_argument("--parts", default="openeis,triage")
    args = parser.parse_args()
    test_dates = args.test_dates.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    force = generate(args.work, args.officers, args.years, args.seed)
    load_before = os.getloadavg()
    summary: dict = {"officers": args.officers, "years": args.years, "seed": args.seed, "test_dates": test_dates,
                     "training_dates_from": args.first_train, "load_average_before": load_before}
    if "openeis" in parts:
        summary["openeis"] = run_openeis(args.work, force, args.first_train, test_dates)
    if "triage" in parts:
        summary["triage"] = run_triage(args.work, force, args.start, args.first_train, test_dates, args.seed)
    if "openeis" in summary and "triage" in summary:
        summary["wall_ratio_triage_over_openeis"] = (summary["triage"]["seconds"]["total"]
                                                     / summary["openeis"]["seconds"]["total"])
    summary["load_average_after"] = os.getloadavg()
    (args.work / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
