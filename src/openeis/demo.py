"""`openeis demo`: the whole pipeline that exists so far, on a synthetic force.

It grows with the project: synthetic force -> embedded store -> validated, pseudonymised
ingest (run twice, to show that re-running changes nothing) -> features and labels as of
several dates -> models and flags -> integrity detectors next to the model's flags ->
governance (subject access, retention dry run, access log check).
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from openeis.governance import access_log, retention
from openeis.governance.roles import Actor, Role
from openeis.governance.subject_access import collect, write_export
from openeis.ingest import ingest_canonical
from openeis.privacy import Pseudonymiser, load_or_create_key
from openeis.schema import TABLES
from openeis.store import open_store

MARKER = ".openeis-demo"


def _fresh_directory(directory: Path) -> None:
    """Start from nothing, but only ever delete a directory the demo made itself."""
    if directory.exists():
        if not (directory / MARKER).exists():
            raise SystemExit(f"{directory} exists and was not made by the demo: choose another --dir")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("made by openeis demo; deleted by the next demo run\n")


def run_demo(directory: Path, officers: int, years: int, seed: int, console: Console) -> dict:
    from openeis.synth import SynthOptions, generate_force

    _fresh_directory(directory)
    inputs = directory / "input"
    store_path = directory / "openeis.duckdb"
    key_path = directory / "openeis.key"
    timings: dict[str, float] = {}

    console.rule("1. synthetic force")
    started = time.perf_counter()
    # An upheld-rate bias against group B is planted, so that the bias audit has something to find.
    summary = generate_force(SynthOptions(officers=officers, years=years, seed=seed,
                                          biases=["upheld:group=B:1.5"]), inputs)
    timings["synth"] = time.perf_counter() - started
    console.print(f"{officers} officers x {years} years written to {inputs} as canonical CSV "
                  f"(ground truth apart in {inputs / 'ground_truth'}) in {timings['synth']:.1f} s")

    console.rule("2. embedded store and key")
    key, _ = load_or_create_key(key_path)
    store = open_store(str(store_path))
    try:
        store.migrate()
        console.print(f"store {store_path} (schema version {store.schema_version()}); "
                      f"pseudonymisation key {key_path} (0600, never in the store)")

        console.rule("3. validated, pseudonymised ingest")
        started = time.perf_counter()
        demo_actor = Actor("demo", Role.ADMINISTRATOR)

        log_change = access_log.ingest_logger(store, key, demo_actor, purpose="demo ingest")
        report = ingest_canonical(store, inputs, Pseudonymiser(key), before_commit=log_change)
        timings["ingest"] = time.perf_counter() - started
        console.print(f"batch {report.batch_id}: {report.total('inserted')} rows inserted from "
                      f"{len(report.tables)} files in {timings['ingest']:.1f} s, "
                      f"{len(report.warnings)} warnings, names and free text discarded: "
                      f"{sum(len(v) for v in report.discarded_columns.values())} columns")

        console.rule("4. re-ingest the same files: nothing changes")
        again = ingest_canonical(store, inputs, Pseudonymiser(key), before_commit=log_change)
        console.print(f"batch {again.batch_id}: inserted {again.total('inserted')}, updated "
                      f"{again.total('updated')}, unchanged {again.total('unchanged')}")

        counts = RichTable(title="what the store holds")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for table in TABLES:
            counts.add_row(table.qualified_name, f"{store.scalar(f'SELECT count(*) FROM {table.qualified_name}'):,}")
        console.print(counts)

        console.rule("5. leakage-free features and labels")
        from openeis.features import build_features, compute_labels

        end_year = 2015 + years  # SynthOptions' default start is 2015-01-01
        as_of = [date(year, 1, 1) for year in range(max(2016, end_year - 3), end_year)]
        started = time.perf_counter()
        features_path = directory / "features.parquet"
        built = build_features(store, as_of, features_path)
        labels = compute_labels(store, as_of)
        timings["features"] = time.perf_counter() - started
        access_log.append(store, key, demo_actor, "read", "features",
                          records={"as_of": [str(d) for d in as_of], "rows": built["rows"]}, purpose="demo features")
        label_name = [c for c in labels.column_names if c not in ("officer", "as_of")][0]
        positives = sum(labels.column(label_name).to_pylist())
        console.print(f"{built['rows']:,} officer x date rows, {built['columns'] - 2} features as of "
                      f"{', '.join(str(d) for d in as_of)} -> {features_path} in {timings['features']:.1f} s")
        console.print(f"label {label_name}: {positives} of {labels.num_rows} officer x date rows positive "
                      "(a finding upheld on a complaint in the following 12 months)")

        console.rule("6. models, backtest and flags with explanations")
        started = time.perf_counter()
        _models_step(store, key, demo_actor, directory, end_year, console)
        timings["models"] = time.perf_counter() - started

        console.rule("7. integrity detectors next to the model's flags")
        started = time.perf_counter()
        _detectors_step(store, key, demo_actor, inputs / "ground_truth", directory, console)
        timings["detectors"] = time.perf_counter() - started

        console.rule("8. governance")
        officer = store.scalar("SELECT officer_id FROM allegations ORDER BY officer_id LIMIT 1")
        export = collect(store, officer)
        sar_json, _ = write_export(export, directory / "subject-access", "demo")
        access_log.append(store, key, demo_actor, "export", "subject_access",
                          records={"officer": officer, "records": export.total()}, purpose="demo subject access")
        console.print(f"subject access export for officer {officer}: {export.total()} records -> {sar_json.parent}")
        # As on the snapshot date (the end of the synthetic records), not today: the data are
        # years old, and a dry run as of today would say nearly everything is due.
        snapshot = date(end_year, 1, 1)
        due = retention.due(store, retention.default_rules(), snapshot)
        console.print(f"retention due on {snapshot} (dry run, nothing deleted): "
                      + ", ".join(f"{o.rule.table} {o.rows}" for o in due))
        console.rule("9. the web application")
        accounts = _web_accounts(store, key, demo_actor, directory)
        names = [line.split("\t")[0] + " (" + line.split("\t")[1] + ")" for line in accounts.read_text().splitlines()[1:]]
        console.print(f"accounts for the browser: {', '.join(names)}; passwords in {accounts}")
        console.print(f"see the flags, detector hits, models, audit and access log: openeis serve --store {store_path}")
        console.print(str(access_log.verify(store, key)))
    finally:
        store.close()

    console.rule("outputs")
    console.print(f"store:        {store_path}")
    console.print(f"key file:     {key_path}")
    console.print(f"input files:  {inputs}")
    console.print(f"features:     {directory / 'features.parquet'}")
    console.print(f"backtest:     {directory / 'backtest.html'} (and .json)")
    console.print(f"detectors:    {directory / 'detectors.json'}")
    console.print(f"accounts:     {accounts} (demo passwords, readable by you only)")
    console.print(f"try:          openeis status --store {store_path}")
    console.print(f"              openeis log verify --store {store_path}")
    console.print(f"              openeis serve --store {store_path}   then http://127.0.0.1:8000/ "
                  f"(sign in with an account from {accounts.name})")
    console.print("A flag from OpenEIS is a prompt for a human reviewer, never a verdict.")
    return {"store": store_path, "key": key_path, "inputs": inputs, "synth": summary, "timings": timings}


def demo_config(end_year: int):
    """The default configuration with a split plan of quarterly dates from 2016 (the synthetic
    records begin in 2015): the default yearly plan would give a 6-year force 2 training dates."""
    from openeis.config import OpenEISConfig
    from openeis.features.definitions import SplitsConfig

    return OpenEISConfig(splits=SplitsConfig(start="2016-01-01", end=f"{end_year - 1}-01-01",
                                             frequency_months=3))


def _models_step(store, key, actor, directory: Path, end_year: int, console: Console) -> None:
    import json

    from openeis.flags.score import score
    from openeis.models.backtest import run_backtest, save_backtest
    from openeis.models.jobs import train_and_register
    from openeis.models.report import backtest_html

    if end_year - 2016 < 5:
        console.print("skipped: models need at least 6 years of synthetic records (2 for training "
                      "dates, 1 for their outcomes, more to backtest); run the demo with --years 6")
        return
    config = demo_config(end_year)
    label = config.labels.default
    # four test dates, 6 months apart, whose 12-month outcome windows have closed in the data:
    # one date's top 2% is a few dozen officers, too few to judge alone
    test_dates = [date(end_year - 3, 1, 1), date(end_year - 3, 7, 1), date(end_year - 2, 1, 1), date(end_year - 2, 7, 1)]
    result, details = run_backtest(store, config, test_dates, label)
    (directory / "backtest.json").write_text(json.dumps(result, indent=1))
    save_backtest(store, result)  # the web application's models page charts it
    (directory / "backtest.html").write_text(backtest_html(result, details, config.force_name))
    s = result["summary"]
    prior_tp = sum(d["models"]["prior_complaints_5y"]["true_positives_at_rule_count"] for d in result["dates"])
    console.print(f"backtest on {', '.join(map(str, test_dates))} (trained each time only on what was known "
                  f"then) -> {directory / 'backtest.html'}")
    console.print(f"  ranking everyone (AUC): selected model {s['selected_auc']:.3f}, prior-complaint count "
                  f"{s['prior_count_auc']:.3f}, the strongest baseline on each date {s['strongest_baseline_auc']:.3f}")
    console.print(f"  flagging as many officers as the threshold rules do "
                  f"({sum(d['rule']['flags'] for d in result['dates']) // len(result['dates'])} a date): "
                  f"{s['selected_true_positives_at_rule_count']:.0f} went on to have the outcome with the model, "
                  f"{prior_tp:.0f} with the prior-complaint count, {s['rule_true_positives']} with the rules")
    console.print(f"  at review capacity (top {config.flags.top_percent:g}%, a few dozen officers a date): "
                  f"precision {s['selected_precision_at_capacity']:.2f} for the model, "
                  f"{s['prior_count_precision_at_capacity']:.2f} for the prior-complaint count, "
                  f"{s['rule_precision']:.2f} for the rules")
    entry = train_and_register(store, config, None, label, actor)
    access_log.append(store, key, actor, "change", "models", records={"model_id": entry.model_id},
                      purpose="demo train")
    console.print(f"trained and registered {entry.model_id} ({entry.candidate}) as a candidate, "
                  f"as of {entry.trained_as_of}")
    from openeis.models.audit_job import audit_model
    from openeis.models.jobs import GateRefused, promote

    audit = audit_model(store, config, entry.model_id)
    console.print(f"bias audit of {entry.model_id} as of {audit.as_of} (the synthetic force has an "
                  f"upheld-rate bias of 1.5x planted against group B): gate "
                  f"{'open' if audit.gate.allowed else 'closed'}")
    for reason in audit.gate.reasons[:4]:
        console.print(f"      - {reason}", highlight=False, markup=False)
    warnings = audit.result.label_bias[audit.result.label_bias["warning"]]
    for row in warnings.itertuples(index=False):
        console.print(f"      label-bias warning: the outcome rate of {row.attribute} {row.group} is "
                      f"{row.ratio:.2f} times that of {row.reference}", highlight=False)
    try:
        promote(store, config, key, entry.model_id, "live", actor)
        console.print(f"{entry.model_id} promoted to live")
    except GateRefused as refused:
        console.print(f"promotion to live refused: {refused}", highlight=False, markup=False)
    run = score(store, config, None, entry.model_id)
    access_log.append(store, key, actor, "change", "flags",
                      records={"as_of": run.as_of.isoformat(), "flags": len(run.flags)}, purpose="demo score")
    model_flags = [f for f in run.flags if f.source == "model"]
    console.print(f"{run.as_of}: {run.cohort} officers scored; {len(model_flags)} flags for review "
                  f"(capacity {config.flags.top_percent:g}%), {len(run.flags) - len(model_flags)} more "
                  "officers trigger only a threshold rule. The first three:")
    for f in model_flags[:3]:
        console.print(f"  #{f.rank} officer {f.officer[:12]}… score {f.score:.0%}", highlight=False)
        for sentence in f.explanation["sentences"]:
            console.print(f"      - {sentence}", highlight=False, markup=False)
    console.print("A flag is a prompt for a supervisor's conversation, never a verdict.")


def _detectors_step(store, key, actor, truth_dir: Path, directory: Path, console: Console) -> None:
    """Run every detector as of the latest data date (the model's scoring date), put the hits
    in the review queue, and show them beside the model's flags and against the planted truth."""
    import json

    from openeis.detectors import run_detectors, write_flags
    from openeis.detectors.evaluate import evaluate
    from openeis.flags.store import read_flags
    from openeis.models.data import latest_data_date

    as_of = latest_data_date(store)
    from openeis.config import OpenEISConfig

    run = run_detectors(store, OpenEISConfig().detectors, as_of)
    written = write_flags(store, run)
    access_log.append(store, key, actor, "read", "source_records",
                      records={"as_of": as_of.isoformat(), "hits": len(run.hits)}, purpose="demo detectors")
    (directory / "detectors.json").write_text(json.dumps(run.as_dict(), indent=1, default=str))
    truth = {r["detector"]: r for r in evaluate(run, truth_dir, Pseudonymiser(key))}
    model_flagged = {f["officer"] for f in read_flags(store, as_of) if f["source"] == "model"}
    table = RichTable(title=f"detector hits as of {as_of} ({len(run.officers):,} officers examined, "
                      f"{run.period.start} to {as_of})")
    for heading in ("detector", "prompt", "hits", "also flagged by the model", "planted found",
                    "false positives on clean officers"):
        table.add_column(heading)
    for r in run.results:
        hit = {h.officer for h in r.hits}
        t = truth[r.name]
        table.add_row(r.name, run.config.settings(r.name).prompt_kind, str(len(hit)),
                      str(len(hit & model_flagged)), f"{t['found']} of {t['planted']}",
                      f"{t['false_positives']} of {t['clean_officers']:,}")
    console.print(table)
    detector_officers = {h.officer for h in run.hits}
    if model_flagged:
        console.print(f"{len(detector_officers)} officers with a detector hit, {len(model_flagged)} with a "
                      f"model flag, {len(detector_officers & model_flagged)} with both: the detectors look "
                      "for integrity patterns the complaint-risk model is not built to see.")
    else:
        console.print(f"{len(detector_officers)} officers with a detector hit; no model flags on {as_of} "
                      "(the models step needs 6 years of records).")
    console.print(f"{written['written']} detector flags are in the review queue (source `detector`), "
                  "each with its reasons and the records behind it.")
    shown = set()
    for h in run.hits:
        if h.detector in shown or len(shown) == 3:
            continue
        shown.add(h.detector)
        console.print(f"  {h.detector} ({h.prompt_kind} prompt), officer {h.officer[:12]}…, "
                      f"{h.evidence_total} records behind it:", highlight=False)
        for sentence in h.sentences:
            console.print(f"      - {sentence}", highlight=False, markup=False)


def _web_accounts(store, key, actor, directory: Path) -> Path:
    """Accounts to look at the demo in the browser (`openeis serve`): an administrator, a
    reviewer covering the unit of the top model flag, and an auditor. Their generated passwords
    go to a file only the user can read, never to the console."""
    import os
    import secrets
    from datetime import date as day

    from openeis.flags.store import read_flags
    from openeis.governance.users import add_user
    from openeis.review.scope import officer_unit

    flags = [f for f in read_flags(store) if f["source"] == "model"]
    unit = None
    if flags:
        latest = max(f["as_of"] for f in flags)
        top = min((f for f in flags if f["as_of"] == latest), key=lambda f: f["rank"] or 0)
        unit = officer_unit(store, top["officer"], day.fromisoformat(latest))
    lines = ["# Demo accounts for `openeis serve` (generated by `openeis demo`; demo store only)"]
    for name, role, scope in (("demo-admin", Role.ADMINISTRATOR, []),
                              ("demo-reviewer", Role.REVIEWER, [unit] if unit else []),
                              ("demo-auditor", Role.AUDITOR, [])):
        if role is Role.REVIEWER and not scope:
            continue
        password = secrets.token_urlsafe(12)
        with store.transaction():
            add_user(store, name, role, password, scope)
            access_log.append(store, key, actor, "change", "users", records={"user": name, "role": role.value},
                              purpose="demo accounts", own_transaction=False)
        lines.append(f"{name}\t{role.value}{' (unit ' + scope[0] + ')' if scope else ''}\tpassword: {password}")
    path = directory / "demo-accounts.txt"
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path
