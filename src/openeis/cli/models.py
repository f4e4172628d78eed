"""train, backtest, models list|show|promote|retire, score, monitor, audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text
from rich.table import Table as RichTable

from openeis.application import models as actions
from openeis.application.errors import Invalid
from openeis.cli.common import (DEFAULT_STORE, ConfigOption, KeyFileOption, LabelOption, StoreOption, command,
                                console, errors, progress_bar, session, write_json)
from openeis.json_values import json_default


def register(app: typer.Typer) -> None:
    command(app)(train)
    command(app)(backtest)
    models_app = typer.Typer(help="The model registry: list, show, promote, retire.", no_args_is_help=True)
    command(models_app, "list")(models_list)
    command(models_app, "show")(models_show)
    command(models_app, "promote")(models_promote)
    command(models_app, "retire")(models_retire)
    app.add_typer(models_app, name="models")
    command(app)(score)
    command(app)(monitor)
    command(app)(audit)


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
    with session(store, key_file, config) as caller, progress_bar() as update:
        entry = actions.train(caller, as_of, label, features, update)
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
    from openeis.models.report import backtest_html

    with session(store, key_file, config) as caller:
        with progress_bar() as update:
            result, details = actions.backtest(caller, as_of, label, features, update)
        force_name = caller.config.force_name
    write_json(json_out, result)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(backtest_html(result, details, force_name))
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


def models_list(
    label: LabelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools.")] = False,
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Every registered model, oldest first."""
    with session(store, key_file, config) as caller:
        entries = actions.list_models(caller, label)
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


def models_show(
    model_id: Annotated[str, typer.Argument(help="Model ID (from `openeis models list`).")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """One model: what it was trained on, its metrics, and its history (JSON)."""
    with session(store, key_file, config) as caller:
        payload = actions.show_model(caller, model_id)
    print(json.dumps(payload, indent=1, default=json_default))


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
    if to not in (None, "approved", "live"):
        raise Invalid("--to must be approved or live")
    with session(store, key_file, config) as caller:
        entry, gate = actions.promote(caller, model_id, to, override_gate, rationale)
    console.print(f"{entry.model_id} is now {entry.status}" + (f" ({gate})" if gate else ""))


def models_retire(
    model_id: Annotated[str, typer.Argument(help="Model ID.")],
    rationale: Annotated[str, typer.Option("--rationale", help="Why it is retired.")],
    store: StoreOption = DEFAULT_STORE,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Retire a model: it no longer scores anyone."""
    with session(store, key_file, config) as caller:
        entry = actions.retire(caller, model_id, rationale)
    console.print(f"{entry.model_id} is now retired")


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
    with session(store, key_file, config) as caller, progress_bar() as update:
        run = actions.score(caller, as_of, model, label, features, update)
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
        console.print(Text.assemble("\n", (f"#{f.rank}", "bold"), f" officer {f.officer[:12]}… score "
                                    f"{f.score:.1%} (percentile {f.percentile:.1f})"), highlight=False)
        for sentence in f.explanation["sentences"]:
            console.print(f"  - {sentence}", highlight=False, markup=False)
    if len(model_flags) > 10:
        console.print(f"\n... and {len(model_flags) - 10} more (use --json)")


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
    from openeis.models.monitor import monitor_html

    with session(store, key_file, config) as caller:
        result = actions.monitor(caller, model)
        force_name = caller.config.force_name
    if json_out:
        write_json(json_out, result)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(monitor_html(result, force_name))
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
    from openeis.audit import write_report

    with session(store, key_file, config) as caller:
        with progress_bar() as update:
            result = actions.audit(caller, model, as_of, rows, features, update).audit
        force_name = caller.config.force_name
    write_json(json_out, result.as_json())
    if report:
        write_report(result.result, report, title=f"{force_name}: bias audit of {result.model.model_id}")
    verdict = "within the fairness band: the gate is open" if result.gate.allowed else "NOT within the band: the gate stays closed"
    console.print(f"audit {result.audit_id} of {result.model.model_id} as of {result.as_of}: "
                  f"{result.result.officers} officers, {result.result.flags} flags; {verdict}")
    for reason in result.gate.reasons[:12]:
        console.print(f"  - {reason}", highlight=False, markup=False)
    if len(result.gate.reasons) > 12:
        console.print(f"  ... {len(result.gate.reasons) - 12} more in {json_out}")
