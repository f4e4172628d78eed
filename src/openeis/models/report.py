"""The backtest's HTML report: precision-at-k curves for the models and the baselines,
calibration of the selected model, and the per-date table."""

from __future__ import annotations

import numpy as np

from openeis.html_report import escape, figure, fmt, page, plt, svg, table
from openeis.models.backtest import CURVE_PERCENTS, DateResult
from openeis.models.baselines import NAMES as BASELINES

MARKERS = ["o", "s", "^", "D", "v", "P", "X"]


def _curves_chart(result: DateResult) -> str:
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    e = result.entry
    for i, (name, values) in enumerate(result.curves.items()):
        if name == "rule":
            continue
        style = "--" if name in BASELINES else "-"
        width = 2.5 if name == e["selected"] else 1.2
        label = name + (" (selected)" if name == e["selected"] else "")
        ax.plot(CURVE_PERCENTS, [np.nan if v is None else v for v in values], style,
                marker=MARKERS[i % len(MARKERS)], linewidth=width, label=label)
    rule = e["rule"]
    if rule["precision"] is not None and e["cohort"]:
        ax.scatter([100 * rule["flags"] / e["cohort"]], [rule["precision"]], marker="*", s=160,
                   color="black", zorder=5, label=f"threshold rules ({rule['flags']} flags)")
    ax.set_xscale("log")
    ax.set_xticks([0.5, 1, 2, 5, 10, 20, 50], ["0.5", "1", "2", "5", "10", "20", "50"])
    ax.set_xlabel("officers flagged (% of cohort, log scale)")
    ax.set_ylabel("precision (share with the outcome)")
    ax.set_title(f"Precision at k, test date {e['as_of']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return svg(fig)


def _calibration_chart(result: DateResult) -> str:
    fig, ax = plt.subplots(figsize=(4, 3.8))
    bins = result.calibration
    predicted = [b["predicted"] for b in bins]
    observed = [b["observed"] for b in bins]
    top = max(predicted + observed + [0.01]) * 1.1
    ax.plot([0, top], [0, top], ":", color="grey", label="perfect calibration")
    ax.plot(predicted, observed, "o-", label=f"{result.entry['selected']}")
    ax.set_xlabel("predicted probability (decile mean)")
    ax.set_ylabel("observed rate")
    ax.set_title(f"Calibration, {result.entry['as_of']}")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return svg(fig)


HOW_TO_READ = """<div class='note'><p><b>How to read this.</b> Each test date replays what the
force could have known on that day: models were trained only on earlier dates whose outcome
window had closed, with findings as they stood on the test date. <i>Precision</i> is the share
of flagged officers who went on to have the outcome; <i>at capacity</i> means when flagging as
many officers as reviewers can see. The threshold rules flag everyone over a threshold, so they
are one point (a star); a model compared "at the rule's count" flags the same number of
officers. The baselines (dashed) rank officers by the number of rules they trigger
(department_rules), by complaints in the previous 5 years (prior_complaints_5y), and by
complaints per year of service shrunk towards the force's rate (empirical_bayes_rate); the
model is judged against the strongest of them on each date. Calibration compares the predicted probability with what happened: points on the dotted line
are well calibrated.</p></div>"""


def backtest_html(result: dict, details: list[DateResult], force_name: str) -> str:
    s = result["summary"]
    summary_rows = [
        ["threshold rules", fmt(s["rule_precision"]), "-", "-"],
        ["selected model", fmt(s["selected_precision_at_rule_count"]), fmt(s["selected_precision_at_capacity"]), fmt(s["selected_auc"])],
        ["prior complaints (5 years)", fmt(s["prior_count_precision_at_rule_count"]), fmt(s["prior_count_precision_at_capacity"]), fmt(s["prior_count_auc"])],
        ["strongest baseline on each date", "-", "-", fmt(s.get("strongest_baseline_auc"))],
    ]
    body = [HOW_TO_READ, f"<p>Label: <b>{escape(result['label'])}</b>; {s['dates']} test dates.</p>",
            "<h2>Summary (means over test dates)</h2>",
            table(["ranking", "precision at the rule's flag count (rule: its own precision)",
                   "precision at capacity", "AUC"], summary_rows),
            table(["check", "result"], [[k.replace("_", " "), v] for k, v in s.items() if k.startswith("selected_beats")])]
    rows = []
    for e in result["dates"]:
        m = e["models"][e["selected"]]
        strongest = e.get("strongest_baseline")
        b = e["models"].get(strongest, {})
        rows.append([e["as_of"], e["cohort"], e["positives"], e["capacity"], e["rule"]["flags"],
                     e["rule"]["true_positives"], e["selected"], fmt(m.get("true_positives_at_rule_count")),
                     fmt(m.get("precision_at_capacity")), fmt(m["auc"]), strongest or "-",
                     fmt(b.get("true_positives_at_rule_count")), fmt(b.get("precision_at_capacity")),
                     fmt(b.get("auc"))])
    body.append("<h2>Per test date</h2>")
    body.append(table(["as of", "cohort", "positives", "capacity", "rule flags", "rule true positives",
                       "selected model", "its true positives at rule count", "its precision at capacity",
                       "its AUC", "strongest baseline", "its true positives at rule count",
                       "its precision at capacity", "its AUC"], rows))
    fallbacks = [f"{e['as_of']}: {e['selection']['fallback']}" for e in result["dates"]
                 if e.get("selection", {}).get("fallback")]
    if fallbacks:
        body.append("<h3>Fallback to a baseline</h3><ul>" + "".join(f"<li>{escape(f)}</li>" for f in fallbacks) + "</ul>")
    for d in details:
        body.append(f"<h2>{escape(d.entry['as_of'])}</h2>")
        body.append(figure(_curves_chart(d), "Precision among the top k% of officers for each model "
                           "and each baseline (dashed); the star is the threshold rules."))
        if d.calibration:
            body.append(figure(_calibration_chart(d), "Predicted probability against the observed "
                               "outcome rate, by decile of predicted probability."))
    return page(f"{force_name}: backtest", "".join(body))
