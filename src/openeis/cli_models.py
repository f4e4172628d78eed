"""CLI commands for models and flags: train, backtest, models list|show|promote|retire,
score, monitor. Registered on the main app by openeis.cli."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from openeis.cli import (ConfigOption, DEFAULT_STORE, KeyFileOption, Refused, StoreOption, _config,
                         _open, _progress, _read_key, app, cli_actor, command, console, errors,
                         require_feature_engine)
from openeis.governance import access_log
from openeis.json_values import json_default

models_app = typer.Typer(help="The model registry: list, show, promote, retire.", no_args_is_help=True)
app.add_typer(models_app, name="models")

LabelOption = Annotated[Optional[str], typer.Option("--label", help="Label to predict (default from config).")]


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{what}: not a date (YYYY-MM-DD): {text!r}") from None


def _write_json(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=json_default) + "\n")


@command(app)
def train(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Train on what was known on this date (default: the latest date in the data).")] = None,
    label: LabelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the registry entry as JSON.")] = False,
    features: Annotated[Optional[Path], typer.Option(
        "--features", help="Feature file built earlier by `openeis features` with every training date "
        "(refused if the store took an ingest since); default: build them now.")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Select among the candidate models on temporal folds, fit the winner (calibrated) and
    register it as a candidate."""
    from openeis.models.jobs import train_and_register

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:
        require_feature_engine(opened)
        try:
            with _progress() as update:
                entry = train_and_register(opened, settings, _date(as_of, "--as-of"),
                                           label or settings.labels.default, cli_actor(), update,
                                           features=features)
        except ValueError as error:
            raise Refused(str(error)) from None
        access_log.append(opened, key, cli_actor(), "change", "models",
                          records={"model_id": entry.model_id, "train_rows": entry.metrics["train_rows"],
                                   **({"features_file": str(features)} if features else {})},
                          purpose="train")
    if as_json:
        print(json.dumps(entry.as_dict(), indent=1, default=json_default))
        return
    selection = entry.metrics["selection"]
    console.print(f"registered {entry.model_id} ({entry.candidate}) as a candidate: label {entry.label}, "
                  f"trained as of {entry.trained_as_of} on {len(entry.train_dates)} as-of dates, "
                  f"{entry.metrics['train_rows']} rows, {entry.metrics['train_positives']} positives")
    _print_selection(selection)


def _print_selection(selection: dict) -> None:
    measure = selection.get("measure", "precision at capacity").replace("_", " ")
    table = RichTable(title=f"model selection: {measure} on validation dates "
                      f"{', '.join(selection['validation_dates']) or '(none)'}")
    for heading in ("candidate or baseline", "per fold", "mean", "std", ""):
        table.add_column(heading)
    rows = list(selection["candidates"].items()) + list(selection.get("baselines", {}).items())
    for name, s in rows:
        folds = ", ".join("-" if v is None else f"{v:.3f}" for v in s["folds"])
        table.add_row(name, folds, "-" if s["mean"] is None else f"{s['mean']:.3f}",
                      "-" if s["std"] is None else f"{s['std']:.3f}",
                      "selected" if name == selection["selected"] else "")
    console.print(table)
    if selection.get("fallback"):
        console.print(selection["fallback"], highlight=False)


@command(app)
def backtest(
    as_of: Annotated[str, typer.Option("--as-of", help="Test dates: D1,D2,... or a range START:END:Nm.")],
    json_out: Annotated[Path, typer.Option("--json", help="Write the results as JSON here.")],
    label: LabelOption = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Also write an HTML report.")] = None,
    features: Annotated[Optional[Path], typer.Option(
        "--features", help="Feature file built earlier by `openeis features` with every test and "
        "training date (refused if the store took an ingest since); default: build them now, in one pass.")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """For each test date: train on the earlier as-of dates (only what was known on the test
    date), score the cohort, and compare models, the threshold rules and the prior-count ranking."""
    from openeis.features import parse_as_of
    from openeis.models.backtest import run_backtest, save_backtest
    from openeis.models.report import backtest_html

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    try:
        dates = parse_as_of(as_of)
    except ValueError as error:
        raise Refused(str(error)) from None
    name = label or settings.labels.default
    with _open(store) as opened:
        require_feature_engine(opened)
        try:
            with _progress() as update:
                result, details = run_backtest(opened, settings, dates, name, update, features=features)
        except ValueError as error:
            raise Refused(str(error)) from None
        access_log.append(opened, key, cli_actor(), "read", "features",
                          records={"as_of": [str(d) for d in dates], "label": name,
                                   **({"features_file": str(features)} if features else {})}, purpose="backtest")
        save_backtest(opened, result)  # for the web application's models page
    _write_json(json_out, result)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(backtest_html(result, details, settings.force_name))
    _print_backtest(result)
    for skipped in result["skipped_dates"]:
        errors.print(f"warning: {skipped} skipped: too few training dates before it in the split plan")
    console.print(f"wrote {json_out}" + (f" and {report}" if report else ""))


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_backtest(result: dict) -> None:
    table = RichTable(title=f"backtest, label {result['label']}")
    for heading in ("as of", "cohort", "positives", "rule flags", "rule TP", "selected", "its TP at rule count",
                    "its precision at capacity", "its AUC", "strongest baseline", "its AUC"):
        table.add_column(heading)
    for e in result["dates"]:
        m = e["models"][e["selected"]]
        strongest = e.get("strongest_baseline")
        b = e["models"].get(strongest, {})
        table.add_row(e["as_of"], str(e["cohort"]), str(e["positives"]), str(e["rule"]["flags"]),
                      str(e["rule"]["true_positives"]), e["selected"], _fmt1(m.get("true_positives_at_rule_count")),
                      _fmt(m.get("precision_at_capacity")), _fmt(m["auc"]), strongest or "-", _fmt(b.get("auc")))
    console.print(table)
    s = result["summary"]
    if s.get("selected_to_rule_true_positives") is not None:
        console.print(f"pooled over the dates, at the rules' flag count: selected {s['selected_true_positives_at_rule_count']:.1f} "
                      f"true positives, rules {s['rule_true_positives']} ({s['selected_to_rule_true_positives']:.2f}x)")
    for e in result["dates"]:
        if e["selection"].get("fallback"):
            console.print(f"{e['as_of']}: {e['selection']['fallback']}", highlight=False)


def _fmt1(value) -> str:
    return "-" if value is None else f"{value:.1f}"


@command(models_app, "list")
def models_list(
    label: LabelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Every registered model, oldest first."""
    from openeis.models import registry

    with _open(store) as opened:
        entries = registry.list_models(opened, label)
    if as_json:
        print(json.dumps([e.as_dict() for e in entries], indent=1, default=json_default))
        return
    table = RichTable(title="model registry")
    for heading in ("model", "status", "label", "candidate", "trained as of", "created", "code"):
        table.add_column(heading)
    for e in entries:
        table.add_row(e.model_id, e.status, e.label, e.candidate, str(e.trained_as_of),
                      e.created_at.isoformat(timespec="seconds"), e.code_version)
    console.print(table)


@command(models_app, "show")
def models_show(
    model_id: Annotated[str, typer.Argument(help="Model ID (from `openeis models list`).")],
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """One model: what it was trained on, its metrics, and its history (JSON)."""
    from openeis.models import registry

    with _open(store) as opened:
        try:
            entry = registry.get(opened, model_id)
        except registry.RegistryError as error:
            raise Refused(str(error)) from None
        payload = entry.as_dict() | {"history": registry.events(opened, model_id)}
    print(json.dumps(payload, indent=1, default=json_default))


@command(models_app, "promote")
def models_promote(
    model_id: Annotated[str, typer.Argument(help="Model ID.")],
    to: Annotated[Optional[str], typer.Option("--to", help="approved or live (default: the next step: candidate -> approved -> live).")] = None,
    override_gate: Annotated[bool, typer.Option("--override-gate", help="Make live despite the bias gate (administrator; needs --rationale).")] = False,
    rationale: Annotated[Optional[str], typer.Option("--rationale", help="Why (recorded in the registry and the access log).")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Promote a model. Becoming live goes through the bias gate: its latest audit must be
    within the fairness band, or an administrator records an override with a rationale."""
    from openeis.models import registry
    from openeis.models.jobs import GateRefused, promote

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    if to not in (None, "approved", "live"):
        raise Refused("--to must be approved or live")
    with _open(store) as opened:
        try:
            entry, gate = promote(opened, settings, key, model_id, to, cli_actor(), override_gate, rationale)
        except (registry.RegistryError, GateRefused) as error:
            raise Refused(str(error)) from None
    console.print(f"{entry.model_id} is now {entry.status}" + (f" ({gate})" if gate else ""))


@command(models_app, "retire")
def models_retire(
    model_id: Annotated[str, typer.Argument(help="Model ID.")],
    rationale: Annotated[str, typer.Option("--rationale", help="Why it is retired.")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Retire a model: it no longer scores anyone."""
    from openeis.models import registry

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:
        try:
            entry = registry.set_status(opened, model_id, "retired", cli_actor(), rationale)
        except registry.RegistryError as error:
            raise Refused(str(error)) from None
        access_log.append(opened, key, cli_actor(), "change", "models",
                          records={"model_id": model_id, "status": "retired"}, purpose=rationale)
    console.print(f"{entry.model_id} is now retired")


@command(app)
def score(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date to score (default: the latest date in the data).")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model ID (default: the live model; until one is promoted, the newest candidate).")] = None,
    label: LabelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the flags as JSON for tools.")] = False,
    features: Annotated[Optional[Path], typer.Option(
        "--features", help="Feature file built earlier by `openeis features` with this date (refused if "
        "the store took an ingest since); default: build the date's features now.")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Score the cohort and write flags, limited by review capacity, each with its reasons."""
    from openeis.flags.score import score as run_score
    from openeis.models import registry

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:
        require_feature_engine(opened)
        try:
            with _progress() as update:
                run = run_score(opened, settings, _date(as_of, "--as-of"), model, label, update, features)
        except (ValueError, registry.RegistryError) as error:
            raise Refused(str(error)) from None
        access_log.append(opened, key, cli_actor(), "change", "flags",
                          records={"as_of": run.as_of.isoformat(), "model_id": run.model.model_id,
                                   "officers_scored": run.cohort,
                                   "flags": [f.flag_id for f in run.flags],
                                   **({"features_file": str(features)} if features else {})},
                          purpose="score and flag")
    if run.warning:
        errors.print(f"warning: {run.warning}", soft_wrap=True)
    if as_json:
        print(json.dumps(run.as_dict(), indent=1, default=json_default))
        return
    _print_flags(run)


def _print_flags(run) -> None:
    model_flags = [f for f in run.flags if f.source == "model"]
    console.print(f"{run.as_of}: {run.cohort} officers scored with {run.model.model_id} "
                  f"({run.model.status}); {len(model_flags)} model flags (capacity {run.capacity}), "
                  f"{len(run.flags) - len(model_flags)} rule flags. A flag is a prompt for review, "
                  "never a verdict.")
    for f in model_flags[:10]:
        console.print(f"\n[bold]#{f.rank}[/bold] officer {f.officer[:12]}… score {f.score:.1%} "
                      f"(percentile {f.percentile:.1f})", highlight=False)
        for sentence in f.explanation["sentences"]:
            console.print(f"  - {sentence}", highlight=False, markup=False)
    if len(model_flags) > 10:
        console.print(f"\n... and {len(model_flags) - 10} more (use --json)")


@command(app)
def monitor(
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the results as JSON here.")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Also write an HTML report.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model ID (default: the scoring model).")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Drift between scoring periods (scores and features) and the realised precision of past
    flags as their outcomes arrive."""
    from openeis.models import registry
    from openeis.models.monitor import monitor_html, run_monitor

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:
        require_feature_engine(opened)
        try:
            result = run_monitor(opened, settings, model)
        except (ValueError, registry.RegistryError) as error:
            raise Refused(str(error)) from None
        access_log.append(opened, key, cli_actor(), "read", "flags",
                          records={"model_id": result["model_id"], "periods": len(result["periods"])},
                          purpose="monitor")
    if json_out:
        _write_json(json_out, result)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(monitor_html(result, settings.force_name))
    table = RichTable(title=f"monitoring {result['model_id']}")
    for heading in ("as of", "scored", "mean score", "score PSI vs first", "features drifting",
                    "flags", "outcomes known", "realised precision"):
        table.add_column(heading)
    for p in result["periods"]:
        table.add_row(p["as_of"], str(p["scored"]), _fmt(p["mean_score"]), _fmt(p["score_psi"]),
                      str(len(p["drifting_features"])), str(p["flags"]),
                      "yes" if p["outcome_window_closed"] else "partly",
                      _fmt(p["realised_precision"]))
    console.print(table)
    for warning in result["warnings"]:
        errors.print(f"warning: {warning}", soft_wrap=True)


@command(app)
def transparency(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the records to.")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Public transparency records: a model card per live model, the UK Algorithmic
    Transparency Recording Standard record, and aggregate statistics with small counts suppressed."""
    from openeis.governance.transparency import write_transparency

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    with _open(store) as opened:
        summary = write_transparency(opened, settings.transparency, out)
        access_log.append(opened, key, cli_actor(), "export", "aggregates",
                          records={"model_cards": summary["model_cards"], "out": str(out)},
                          purpose="transparency records")
    console.print(f"transparency records in {out}: {summary['model_cards']} model card(s), "
                  "atrs-record.json, public-statistics.json, index.html")


@command(app)
def audit(
    json_out: Annotated[Path, typer.Option("--json", help="Write the audit as JSON here.")],
    model: Annotated[Optional[str], typer.Option("--model", help="Model ID (default: the newest).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date to audit (default: the latest plan date with a closed label window).")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Also write an HTML report.")] = None,
    rows: Annotated[Optional[Path], typer.Option("--rows", help="Auditor role: write the pseudonymous rows behind the audit (CSV) for recomputation.")] = None,
    features: Annotated[Optional[Path], typer.Option(
        "--features", help="Feature file built earlier by `openeis features` with the audit date "
        "(refused if the store took an ingest since); default: build the date's features now.")] = None,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Bias audit of a model: group metrics with confidence intervals, disparities against a
    reference group judged against the fairness band, label bias, proxy check; records the
    result for the promotion gate."""
    from openeis.audit import write_report, write_rows_csv
    from openeis.governance.policy import AccessDenied, authorize
    from openeis.governance.roles import Action, Resource
    from openeis.models import registry
    from openeis.models.audit_job import audit_model

    settings = _config(config)
    key = _read_key(store, key_file, settings)
    actor = cli_actor()
    with _open(store) as opened:
        require_feature_engine(opened)
        try:
            if rows:  # checked first: a refused export must not cost a whole audit
                authorize(opened, key, actor, Action.EXPORT, Resource.AUDIT_ROWS, purpose="bias audit rows")
            authorize(opened, key, actor, Action.READ, Resource.AUDITS, purpose="bias audit")
            with _progress() as update:
                result = audit_model(opened, settings, model, _date(as_of, "--as-of"), update,
                                     features_file=features)
        except AccessDenied as error:
            raise Refused(f"access denied: {error}") from None
        except (ValueError, registry.RegistryError) as error:
            raise Refused(str(error)) from None
        access_log.append(opened, key, actor, "read", "protected_characteristics",
                          records={"audit_id": result.audit_id, "model_id": result.model.model_id,
                                   "as_of": result.as_of.isoformat(), "officers": result.result.officers,
                                   **({"features_file": str(features)} if features else {})},
                          purpose="bias audit (aggregates only)")
        if rows:
            write_rows_csv(result.rows, rows)
            access_log.append(opened, key, actor, "export", "audit_rows",
                              records={"audit_id": result.audit_id, "rows": len(result.rows), "out": str(rows)},
                              purpose="bias audit rows for external recomputation")
    _write_json(json_out, result.as_json())
    if report:
        write_report(result.result, report, title=f"{settings.force_name}: bias audit of {result.model.model_id}")
    verdict = "within the fairness band: the gate is open" if result.gate.allowed else "NOT within the band: the gate stays closed"
    console.print(f"audit {result.audit_id} of {result.model.model_id} as of {result.as_of}: "
                  f"{result.result.officers} officers, {result.result.flags} flags; {verdict}")
    for reason in result.gate.reasons[:12]:
        console.print(f"  - {reason}", highlight=False, markup=False)
    if len(result.gate.reasons) > 12:
        console.print(f"  ... {len(result.gate.reasons) - 12} more in {json_out}")
