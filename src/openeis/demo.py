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

from openeis.application import data, detect, governance, ingest, models, review
from openeis.application.errors import GateRefused
from openeis.application.session import Session, create_store, open_session
from openeis.config import OpenEISConfig
from openeis.governance.roles import Actor, Role
from openeis.privacy import Pseudonymiser

# The demo acts as an administrator through the same actions as the CLI and the web
# application: every step is checked against the policy and written to the access log.
DEMO_ACTOR = Actor("demo", Role.ADMINISTRATOR)

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
    end_year = 2015 + years  # SynthOptions' default start is 2015-01-01
    config = demo_config(end_year)
    created = create_store(str(store_path), config, key_path)
    with open_session(str(store_path), DEMO_ACTOR, config, key_path) as session:
        console.print(f"store {store_path} (schema version {created.schema_version}); "
                      f"pseudonymisation key {key_path} (0600, never in the store)")

        console.rule("3. validated, pseudonymised ingest")
        started = time.perf_counter()
        report = ingest.ingest(session, inputs)
        timings["ingest"] = time.perf_counter() - started
        console.print(f"batch {report.batch_id}: {report.total('inserted')} rows inserted from "
                      f"{len(report.tables)} files in {timings['ingest']:.1f} s, "
                      f"{len(report.warnings)} warnings, names and free text discarded: "
                      f"{sum(len(v) for v in report.discarded_columns.values())} columns")

        console.rule("4. re-ingest the same files: nothing changes")
        again = ingest.ingest(session, inputs, reload=True)
        console.print(f"batch {again.batch_id} (--reload: every file read again): inserted "
                      f"{again.total('inserted')}, updated {again.total('updated')}, unchanged {again.total('unchanged')}")
        started = time.perf_counter()
        incremental = ingest.ingest(session, inputs)
        console.print(f"batch {incremental.batch_id} (the default): {len(incremental.skipped_files)} files already "
                      f"loaded, skipped by their SHA-256 in {time.perf_counter() - started:.1f} s")

        counts = RichTable(title="what the store holds")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for table, rows in ingest.status(session).rows.items():
            if table != "quarantine":
                counts.add_row(table, f"{rows:,}")
        console.print(counts)

        console.rule("5. leakage-free features and labels")
        as_of = [date(year, 1, 1) for year in range(max(2016, end_year - 3), end_year)]
        dates = ",".join(str(d) for d in as_of)
        started = time.perf_counter()
        features_path = directory / "features.parquet"
        built = data.export_features(session, dates, features_path)
        labels = data.export_labels(session, dates, directory / "labels.parquet")
        timings["features"] = time.perf_counter() - started
        label_name, positives = next(iter(labels.positives.items()))
        console.print(f"{built['rows']:,} officer x date rows, {built['columns'] - 2} features as of "
                      f"{', '.join(str(d) for d in as_of)} -> {features_path} in {timings['features']:.1f} s")
        console.print(f"label {label_name}: {positives} of {labels.rows} officer x date rows positive "
                      "(a finding upheld on a complaint in the following 12 months)")

        console.rule("6. models, backtest and flags with explanations")
        started = time.perf_counter()
        _models_step(session, directory, end_year, console)
        timings["models"] = time.perf_counter() - started

        console.rule("7. integrity detectors next to the model's flags")
        started = time.perf_counter()
        hits = _detectors_step(session, inputs / "ground_truth", directory, console)
        timings["detectors"] = time.perf_counter() - started

        console.rule("8. the review queues: one budget, welfare apart")
        _queue_step(session, console)

        console.rule("9. governance")
        queue = review.list_flags(session, statuses=(), limit=1)["flags"]
        officer = queue[0]["officer"] if queue else hits[0] if hits else None
        if officer:
            export = governance.subject_access(session, officer, directory / "subject-access", is_pseudonym=True,
                                               reference="demo")
            console.print(f"subject access export for officer {officer}: {export.records} records -> "
                          f"{export.json_path.parent}")
        # As on the snapshot date (the end of the synthetic records), not today: the data are
        # years old, and a dry run as of today would say nearly everything is due.
        snapshot = date(end_year, 1, 1)
        due = governance.retention(session, dry_run=True, as_of=snapshot.isoformat()).outcomes
        console.print(f"retention due on {snapshot} (dry run, nothing deleted): "
                      + ", ".join(f"{o.rule.table} {o.rows}" for o in due))
        console.rule("10. the web application")
        accounts = _web_accounts(session, directory)
        names = [line.split("\t")[0] + " (" + line.split("\t")[1] + ")" for line in accounts.read_text().splitlines()[1:]]
        console.print(f"accounts for the browser: {', '.join(names)}; passwords in {accounts}")
        console.print(f"see the flags, detector hits, models, audit and access log: openeis serve --store {store_path}")
        console.print(str(governance.verify_log(session)[0]))

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


DEMO_OVERRIDE = ("Demonstration on a synthetic force only: most groups are too small for the audit to "
                 "judge, and no real officer is affected. Never a precedent for a real force.")


def _queue_step(session: Session, console: Console) -> None:
    """The period's queues as a reviewer team receives them: the conduct capacity shared by
    model flags, rule flags and detector hits, what did not fit, and the welfare queue."""
    conduct = review.list_flags(session, statuses=(), limit=10**9)
    welfare = review.list_flags(session, statuses=(), limit=10**9, queue="welfare")
    by_source = {s: sum(f["source"] == s for f in conduct["flags"]) for s in ("model", "detector", "rule")}
    missed = conduct["not_queued"]
    console.print(f"conduct queue as of {conduct['as_of']}: {len(conduct['flags'])} items for a capacity of "
                  f"{conduct['capacity']} ({by_source['model']} model flags, {by_source['detector']} detector hits, "
                  f"{by_source['rule']} rule flags); not queued: {missed['model']} more model flags, {missed['rule']} "
                  f"more officers trigger a threshold rule, {missed['detector']} more detector hits (administrators "
                  "can browse them).")
    console.print(f"welfare queue (line managers, occupational health): {len(welfare['flags'])} attendance prompts "
                  f"for a capacity of {welfare['capacity']}; {sum(welfare['not_queued'].values())} more not queued. "
                  "No sickness or health reason appears in a conduct review.")


def demo_config(end_year: int):
    """The default configuration with a split plan of quarterly dates from 2016 (the synthetic
    records begin in 2015): the default yearly plan would give a 6-year force 2 training dates."""
    from openeis.config.features import SplitsConfig

    return OpenEISConfig(splits=SplitsConfig(start="2016-01-01", end=f"{end_year - 1}-01-01",
                                             frequency_months=3))


def _models_step(session: Session, directory: Path, end_year: int, console: Console) -> None:
    import json

    from openeis.models.report import backtest_html

    if end_year - 2016 < 5:
        console.print("skipped: models need at least 6 years of synthetic records (2 for training "
                      "dates, 1 for their outcomes, more to backtest); run the demo with --years 6")
        return
    config = session.config
    # four test dates, 6 months apart, whose 12-month outcome windows have closed in the data:
    # one date's top 2% is a few dozen officers, too few to judge alone
    test_dates = [date(end_year - 3, 1, 1), date(end_year - 3, 7, 1), date(end_year - 2, 1, 1), date(end_year - 2, 7, 1)]
    result, details = models.backtest(session, ",".join(map(str, test_dates)))
    (directory / "backtest.json").write_text(json.dumps(result, indent=1))
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
    entry = models.train(session)
    console.print(f"trained and registered {entry.model_id} ({entry.candidate}) as a candidate, "
                  f"as of {entry.trained_as_of}")
    audit = models.audit(session, entry.model_id).audit
    console.print(f"bias audit of {entry.model_id} as of {audit.as_of} (the synthetic force has an "
                  f"upheld-rate bias of 1.5x planted against group B): gate "
                  f"{'open' if audit.gate.allowed else 'closed'}")
    for reason in audit.gate.reasons[:4]:
        console.print(f"      - {reason}", highlight=False, markup=False)
    warnings = audit.result.label_bias[audit.result.label_bias["warning"]]
    for row in warnings.itertuples(index=False):
        console.print(f"      label-bias warning: the outcome rate of {row.attribute} {row.group} is "
                      f"{row.ratio:.2f} times that of {row.reference}", highlight=False)
    # Only a live model puts flags in front of reviewers. The gate refuses this one (a force of
    # this size is too thin to judge most groups); the demo shows the refusal, then the
    # administrator's override with a written rationale, both in the access log.
    try:
        models.promote(session, entry.model_id, "live")
        console.print(f"{entry.model_id} passed the bias gate and is live")
    except GateRefused as refused:
        console.print(f"promotion to live refused by the bias gate: {str(refused)[:300]}...", highlight=False,
                      markup=False)
        _, note = models.promote(session, entry.model_id, "live", override_gate=True, rationale=DEMO_OVERRIDE)
        console.print(f"administrator override, recorded with its rationale in the registry and the access log: "
                      f"{entry.model_id} is live ({note[:80]}...)", highlight=False, markup=False)
    run = models.score(session, model_id=entry.model_id)
    model_flags = [f for f in run.flags if f.source == "model"]
    rule_flags = [f for f in run.flags if f.source == "rule"]
    console.print(f"{run.as_of}: {run.cohort} officers scored by the live model; {len(model_flags)} model flags "
                  f"(the top {config.flags.top_percent:g}%), {sum(f.queue == 'conduct' for f in rule_flags)} officers "
                  f"trigger a conduct threshold rule, {sum(f.queue == 'welfare' for f in rule_flags)} an attendance "
                  "rule (welfare prompts). The first three model flags:")
    for f in model_flags[:3]:
        console.print(f"  #{f.rank} officer {f.officer[:12]}… score {f.score:.0%}", highlight=False)
        for sentence in f.explanation["sentences"]:
            console.print(f"      - {sentence}", highlight=False, markup=False)
    console.print("A flag is a prompt for a supervisor's conversation, never a verdict.")


def _detectors_step(session: Session, truth_dir: Path, directory: Path, console: Console) -> list[str]:
    """Run every detector as of the latest data date (the model's scoring date), put the hits
    in the review queue, and show them beside the model's flags and against the planted truth.
    Returns the officers with a hit."""
    import json

    from openeis.detectors.evaluate import evaluate

    found = detect.detect(session)
    run, written, as_of = found.run, found.written, found.day
    assert written is not None and session.key is not None
    (directory / "detectors.json").write_text(json.dumps(run.as_dict(), indent=1, default=str))
    truth = {r["detector"]: r for r in evaluate(run, truth_dir, Pseudonymiser(session.key))}
    model_flagged = {f["officer"] for f in review.list_flags(session, as_of, statuses=(), source="model",
                                                             limit=10**9)["flags"]}
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
    shown: set[str] = set()
    for h in run.hits:
        if h.detector in shown or len(shown) == 3:
            continue
        shown.add(h.detector)
        console.print(f"  {h.detector} ({h.prompt_kind} prompt), officer {h.officer[:12]}…, "
                      f"{h.evidence_total} records behind it:", highlight=False)
        for sentence in h.sentences:
            console.print(f"      - {sentence}", highlight=False, markup=False)
    return sorted(detector_officers)


def _web_accounts(session: Session, directory: Path) -> Path:
    """Accounts to look at the demo in the browser (`openeis serve`): an administrator, a
    reviewer covering the unit of the top model flag, a welfare account covering the unit of
    the first welfare prompt, and an auditor. Their generated passwords
    go to a file only the user can read, never to the console."""
    import os
    import secrets

    flags = review.list_flags(session, statuses=(), source="model", limit=1)["flags"]
    unit = flags[0]["unit"] if flags else None
    prompts = review.list_flags(session, statuses=(), limit=1, queue="welfare")["flags"]
    welfare_unit = prompts[0]["unit"] if prompts else None
    lines = ["# Demo accounts for `openeis serve` (generated by `openeis demo`; demo store only)"]
    for name, role, scope in (("demo-admin", Role.ADMINISTRATOR, []),
                              ("demo-reviewer", Role.REVIEWER, [unit] if unit else []),
                              ("demo-welfare", Role.WELFARE, [welfare_unit] if welfare_unit else []),
                              ("demo-auditor", Role.AUDITOR, [])):
        if role in (Role.REVIEWER, Role.WELFARE) and not scope:
            continue
        password = secrets.token_urlsafe(12)
        governance.add_user(session, name, role, password, scope)
        lines.append(f"{name}\t{role.value}{' (unit ' + scope[0] + ')' if scope else ''}\tpassword: {password}")
    path = directory / "demo-accounts.txt"
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path
