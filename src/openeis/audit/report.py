"""The audit's outputs: JSON (audit_json), the auditor's rows (write_rows_csv) and a
self-contained HTML report (report_html): charts are inline SVG drawn by matplotlib's Agg
backend, with no script, font or style fetched from anywhere.

JSON encoding of numbers that are not finite: NaN (undefined, e.g. 0/0) is `null`;
infinity (x / 0 with x > 0) is the string "inf" ("-inf" cannot occur). See docs/audit.md.
"""

from __future__ import annotations

import html
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from openeis.config.audit import METRICS
from openeis.csv_safety import safe_cell
from openeis.privacy import write_private
from openeis.audit.gate import gate_decision
from openeis.audit.metrics import INSUFFICIENT, OUTSIDE, REFERENCE, WITHIN

SCHEMA = "openeis.audit/1"
GROUP_FIELDS = ("officers", "size", "tp", "fp", "fn", "tn", "flags", "positives", "negatives", "unflagged")
DISPARITY_FIELDS = ("group", "metric", "reference", "value", "reference_value", "ratio", "ratio_low",
                    "ratio_high", "verdict_low", "verdict_high", "verdict", "reason")
METRIC_NAMES = {
    "prevalence": "label rate (prevalence)",
    "flag_rate": "flag rate",
    "precision": "precision (flags that were right)",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "fdr": "false discovery rate",
    "for": "false omission rate",
    "tpr": "true positive rate (recall)",
}


# -- JSON ----------------------------------------------------------------------------------

def plain(value):
    """A JSON-safe value: NaN -> None, inf -> "inf", numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, date):
        return value.isoformat()
    if value is pd.NA or value is None:
        return None
    return value


def audit_json(result) -> dict:
    """The documented JSON shape of an AuditResult (docs/audit.md)."""
    attributes = []
    for attribute in result.config.audited_attributes():
        groups = result.groups[result.groups["attribute"] == attribute]
        disparities = result.disparities[result.disparities["attribute"] == attribute]
        attributes.append({
            "attribute": attribute,
            "groups": [
                {"group": row["group"], **{f: row[f] for f in GROUP_FIELDS},
                 "metrics": {m: {"value": row[m], "low": row[f"{m}_low"], "high": row[f"{m}_high"]}
                             for m in METRICS}}
                for _, row in groups.iterrows()
            ],
            "disparities": [{f: row[f] for f in DISPARITY_FIELDS} for _, row in disparities.iterrows()],
        })
    label_bias = [
        {"attribute": row["attribute"], "group": row["group"], "reference": row["reference"],
         "prevalence": row["value"], "reference_prevalence": row["reference_value"], "ratio": row["ratio"],
         "ratio_low": row["ratio_low"], "ratio_high": row["ratio_high"], "verdict": row["verdict"],
         "warning": bool(row["warning"]), "reason": row["reason"]}
        for _, row in result.label_bias.iterrows()
    ]
    proxy = None
    if result.proxy is not None:
        proxy = [{k: row[k] for k in ("attribute", "auc", "classes", "rows_used", "top_features", "note")}
                 for _, row in result.proxy.iterrows()]
    document = {
        "schema": SCHEMA,
        "as_of": [d.isoformat() for d in result.as_of],
        "rows": result.rows,
        "officers": result.officers,
        "flags": result.flags,
        "positives": result.positives,
        "config": result.config.model_dump(mode="json"),
        "attributes": attributes,
        "label_bias": label_bias,
        "proxy": proxy,
        "gate": gate_decision(result, result.config).to_dict(),
        "notes": list(result.notes),
    }
    return plain(document)


def write_json(result, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(audit_json(result), indent=1, allow_nan=False) + "\n")
    return path


def write_rows_csv(rows: pd.DataFrame, path: Path) -> Path:
    """The pseudonymous rows behind the audit, for `--rows` (auditor role): officer, as_of,
    flag, label, score, one column per attribute. Scores are written with 17 significant
    digits so that a re-computation from the file gives the same numbers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = rows.copy()
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.strftime("%Y-%m-%d")
    # Text cells (group labels come from the force's data) can never be read as formulas by
    # the spreadsheet an auditor opens them in; numbers stay numbers.
    for name in out.columns:
        if pd.api.types.is_object_dtype(out[name]) or pd.api.types.is_string_dtype(out[name]):
            out[name] = out[name].map(safe_cell, na_action="ignore")
    out.columns = [str(safe_cell(name)) for name in out.columns]
    with write_private(path) as handle:
        out.to_csv(handle, index=False, float_format="%.17g", lineterminator="\n")
    return path


# -- charts --------------------------------------------------------------------------------

def _svg(figure) -> str:
    from openeis.html_report import svg

    return svg(figure)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "openeis-audit", "font.size": 9})
    return plt


MARKERS = {WITHIN: ("o", "within band"), OUTSIDE: ("X", "OUTSIDE band"),
           INSUFFICIENT: ("s", "insufficient data"), REFERENCE: ("D", "reference group")}


def disparity_chart(disparities: pd.DataFrame, attribute: str, metrics: list[str], band: tuple[float, float]) -> str:
    """One panel per metric: each group's ratio to the reference with its interval, on a
    log axis, the band shaded, and the verdict written beside each point (shape and text,
    not colour alone)."""
    plt = _pyplot()
    table = disparities[disparities["attribute"] == attribute]
    groups = sorted(table["group"].unique())
    figure, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 0.45 * len(groups) + 1.4),
                                sharey=True, squeeze=False)
    finite = table[np.isfinite(table[["ratio", "ratio_low", "ratio_high"]]).all(axis=1)]
    values = pd.concat([finite["ratio_low"], finite["ratio_high"], pd.Series(band)])
    values = values[values > 0]
    low_edge = min(0.25, values.min() / 1.3) if len(values) else 0.25
    high_edge = max(4.0, values.max() * 1.3) if len(values) else 4.0
    for axis, metric in zip(axes[0], metrics):
        axis.axvspan(band[0], band[1], color="0.85", label="fairness band")
        axis.axvline(1.0, color="0.3", linewidth=0.8)
        for y, group in enumerate(groups):
            row = table[(table["group"] == group) & (table["metric"] == metric)]
            if row.empty:
                continue
            row = row.iloc[0]
            marker, text = MARKERS[row["verdict"]]
            value = row["ratio"]
            if not np.isfinite(value) or value <= 0:
                axis.annotate("no ratio" if not np.isfinite(value) and np.isnan(value) else
                              ("0" if value == 0 else "infinite"), (low_edge * 1.05, y), va="center", fontsize=7)
                continue
            low, high = row["ratio_low"], row["ratio_high"]
            if np.isfinite(low) and np.isfinite(high):
                axis.plot([max(low, low_edge), min(high, high_edge)], [y, y], color="0.2", linewidth=1.2)
            axis.plot([min(max(value, low_edge), high_edge)], [y], marker=marker, color="black",
                      markerfacecolor="white" if row["verdict"] != OUTSIDE else "black", markersize=7)
            axis.annotate(f"{value:.2f} {text if row['verdict'] != REFERENCE else ''}".strip(),
                          (min(max(value, low_edge), high_edge), y), xytext=(0, 7),
                          textcoords="offset points", ha="center", fontsize=7)
        axis.set_xscale("log")
        axis.set_xlim(low_edge, high_edge)
        ticks = [t for t in (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0) if low_edge <= t <= high_edge]
        axis.set_xticks(ticks)
        axis.set_xticklabels([f"{t:g}" for t in ticks])
        axis.annotate(f"band {band[0]:g}-{band[1]:g}", (band[1], len(groups) - 0.35), xytext=(2, 0),
                      textcoords="offset points", fontsize=6, va="top")
        axis.minorticks_off()
        axis.set_title(METRIC_NAMES[metric], fontsize=9)
        axis.set_xlabel("ratio to the reference group (log scale)")
        axis.set_yticks(range(len(groups)))
        axis.set_yticklabels(groups)
        axis.set_ylim(-0.7, len(groups) - 0.3)
    axes[0][0].set_ylabel(attribute)
    return _svg(figure)


def confusion_chart(groups: pd.DataFrame, attribute: str) -> str:
    """Per group, the flagged officers and those with the outcome, as shares of the group
    (linear scale); each part has its own hatching and a legend, so it reads in black and
    white; the rest (not flagged, no outcome) is written at the end of each bar."""
    plt = _pyplot()
    table = groups[groups["attribute"] == attribute].sort_values("group")
    parts = [("tp", "flagged, outcome happened (TP)", "//"), ("fp", "flagged, no outcome (FP)", "xx"),
             ("fn", "not flagged, outcome happened (FN)", "..")]
    figure, axis = plt.subplots(figsize=(7.5, 0.4 * len(table) + 1.4))
    sizes = table["size"].to_numpy(dtype=float)
    left = np.zeros(len(table))
    for column, text, hatch in parts:
        share = 100 * np.divide(table[column].to_numpy(dtype=float), sizes, out=np.zeros(len(table)),
                                where=sizes > 0)
        axis.barh(range(len(table)), share, left=left, color="white", edgecolor="black", hatch=hatch,
                  linewidth=0.6, label=text)
        left += share
    for y, (end, rest) in enumerate(zip(left, 100 - left)):
        axis.annotate(f"rest {rest:.1f}% (TN)", (end, y), xytext=(4, 0), textcoords="offset points",
                      va="center", fontsize=7)
    axis.set_xlim(0, max(left.max() * 1.35, 1.0))
    axis.set_yticks(range(len(table)))
    axis.set_yticklabels([f"{g} ({int(n)})" for g, n in zip(table["group"], table["size"])])
    axis.set_xlabel("% of the group's rows")
    axis.set_ylabel(f"{attribute} (rows)")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=7, frameon=False)
    return _svg(figure)


# -- HTML ----------------------------------------------------------------------------------

HOW_TO_READ = """
<h2 id="how-to-read">How to read this</h2>
<ul>
<li><b>What was audited.</b> For every officer on each date, the model either flagged them for
review or not, and later they either had the outcome (the <i>label</i>, for example an upheld
allegation in the next 12 months) or not. The audit asks whether the flags treat groups of
officers (by ethnicity, gender, age band and their combinations) differently.</li>
<li><b>Ratios.</b> Each group is compared with a <i>reference group</i>. A ratio of 1 means the
same as the reference; 1.5 means one and a half times as high; 0.5 means half. The grey band
(from {low:g} to {high:g}) is the range accepted as fair.</li>
<li><b>Intervals.</b> The line through each point is a {conf:.0%} confidence interval: with
groups this size, the true ratio is very likely somewhere along it. A long line means the
data are too thin to be sure.</li>
<li><b>Verdicts</b> are written beside each point, not shown by colour: <i>within band</i> (the
whole interval is inside the grey band), <i>OUTSIDE band</i> (the ratio is outside the band and
the gap is too large to be chance, even allowing for the many groups compared), or
<i>insufficient data</i> (too few officers, flags or outcomes, or an interval too wide to
say). Insufficient data is never a pass.</li>
<li><b>Which numbers matter most.</b> The <i>flag rate</i> is the share of a group flagged; the
<i>false positive rate</i> is the share of officers who did <i>not</i> go on to have the outcome
but were flagged anyway. These two decide the promotion gate by default.</li>
<li><b>Label bias.</b> The outcome itself can be biased: if findings are upheld more often
against one group, a model trained on them learns that bias, and its error rates can look
fair against the biased outcome. The label-bias table compares the outcome rate itself
between groups. A warning there is a question for the people who make the decisions,
not only for the model.</li>
<li><b>Proxy check.</b> Protected characteristics are never model inputs, but other inputs can
stand in for them (length of service stands in for age). The proxy check says how well
the inputs predict each characteristic: 0.5 means not at all, 1.0 perfectly.</li>
</ul>
"""

STYLE = ("body{font-family:sans-serif;margin:2em;max-width:80em;line-height:1.4}"
         "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #999;padding:.2em .5em;"
         "font-size:.85em;text-align:right}th{background:#eee}td.t,th.t{text-align:left}"
         "caption{text-align:left;font-weight:bold;margin:.3em 0}.blocked{border:3px solid black;padding:.5em 1em}"
         ".allowed{border:1px solid black;padding:.5em 1em}svg{max-width:100%;height:auto}")


def _number(value, digits: int = 3) -> str:
    value = plain(value)
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return "infinite" if value == "inf" else value
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _interval(low, high, digits: int = 3) -> str:
    if plain(low) is None or plain(high) is None:
        return "n/a"
    return f"{_number(low, digits)} to {_number(high, digits)}"


def _table(caption: str, header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    out = [f"<table><caption>{html.escape(caption)}</caption><tr>"]
    out += [f"<th scope='col' class='{'t' if i < text_columns else ''}'>{html.escape(h)}</th>"
            for i, h in enumerate(header)]
    out.append("</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td class='{'t' if i < text_columns else ''}'>{html.escape(str(c))}</td>"
                                     for i, c in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "".join(out)


def report_html(result, title: str = "Bias audit") -> str:
    config = result.config
    decision = gate_decision(result, config)
    low, high = config.band
    chart_metrics = list(dict.fromkeys(list(config.gate_metrics) + ["prevalence", "precision", "fnr"]))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>As of {', '.join(d.isoformat() for d in result.as_of)}: {result.rows} officer-date rows, "
        f"{result.officers} officers, {result.flags} flags, {result.positives} with the outcome.</p>",
        f"<div class='{'allowed' if decision.allowed else 'blocked'}'><p><b>Promotion gate: "
        f"{'ALLOWED' if decision.allowed else 'BLOCKED'}</b> (judged on {', '.join(config.gate_metrics)})</p><ul>",
    ]
    parts += [f"<li>{html.escape(r)}</li>" for r in decision.reasons[:30]]
    if len(decision.reasons) > 30:
        parts.append(f"<li>... and {len(decision.reasons) - 30} more (see the tables below).</li>")
    parts.append("</ul></div>")
    parts.append(HOW_TO_READ.format(low=low, high=high, conf=config.confidence))

    warnings = result.label_bias[result.label_bias["warning"]]
    parts.append("<h2>Label bias</h2>")
    parts.append("<p>" + ("<b>Warning:</b> the outcome rate differs between groups beyond the band for "
                          + ", ".join(f"{r.attribute} {r.group} ({_number(r.ratio, 2)} times {r.reference})"
                                      for r in warnings.itertuples()) + "."
                          if len(warnings) else "No group's outcome rate is shown to differ beyond the band.")
                 + "</p>")
    parts.append(_table("Outcome rate by group compared with the reference group",
                        ["attribute", "group", "reference", "outcome rate", "reference rate", "ratio",
                         f"{config.confidence:.0%} interval", "verdict", "why"],
                        [[r.attribute, r.group, r.reference, _number(r.value), _number(r.reference_value),
                          _number(r.ratio, 2), _interval(r.ratio_low, r.ratio_high, 2), r.verdict, r.reason]
                         for r in result.label_bias.itertuples()], text_columns=3))

    for attribute in config.audited_attributes():
        parts.append(f"<h2>{html.escape(attribute)}</h2>")
        parts.append(f"<figure>{disparity_chart(result.disparities, attribute, chart_metrics, config.band)}"
                     f"<figcaption>Ratios to the reference group for {html.escape(attribute)}, with "
                     f"{config.confidence:.0%} intervals; the shaded band is {low:g} to {high:g}.</figcaption></figure>")
        parts.append(f"<figure>{confusion_chart(result.groups, attribute)}<figcaption>What happened to each group "
                     "(counts in the table below).</figcaption></figure>")
        groups = result.groups[result.groups["attribute"] == attribute]
        parts.append(_table(f"{attribute}: counts per group",
                            ["group", "officers", "rows", "flagged, outcome (TP)", "flagged, no outcome (FP)",
                             "not flagged, outcome (FN)", "not flagged, no outcome (TN)"],
                            [[g.group, g.officers, g.size, g.tp, g.fp, g.fn, g.tn] for g in groups.itertuples()]))
        parts.append(_table(f"{attribute}: rates per group with {config.confidence:.0%} intervals",
                            ["group"] + [METRIC_NAMES[m] for m in METRICS],
                            [[g["group"]] + [f"{_number(g[m])} ({_interval(g[f'{m}_low'], g[f'{m}_high'])})"
                                             for m in METRICS] for _, g in groups.iterrows()]))
        table = result.disparities[(result.disparities["attribute"] == attribute)
                                   & (result.disparities["verdict"] != REFERENCE)]
        parts.append(_table(f"{attribute}: disparities and verdicts",
                            ["group", "metric", "reference", "ratio", f"{config.confidence:.0%} interval",
                             "verdict", "why"],
                            [[r.group, METRIC_NAMES[r.metric], r.reference, _number(r.ratio, 2),
                              _interval(r.ratio_low, r.ratio_high, 2), r.verdict, r.reason]
                             for r in table.itertuples()], text_columns=3))

    parts.append("<h2>Proxy check</h2>")
    if result.proxy is None:
        parts.append("<p>Not run (no feature matrix given).</p>")
    else:
        parts.append(_table("How well the model's inputs predict each characteristic (0.5: not at all; 1: perfectly)",
                            ["attribute", "AUC", "strength", "rows", "inputs that carry most of it", "note"],
                            [[p.attribute, _number(p.auc), _strength(p.auc), p.rows_used,
                              ", ".join(f"{f['feature']} ({f['weight']:+.2f})" for f in p.top_features[:5]),
                              p.note] for p in result.proxy.itertuples()]))
    parts.append("<h2>Method</h2><ul>")
    parts.append(f"<li>Reference group: {html.escape(config.reference)}. "
                 + html.escape("; ".join(result.notes)) + "</li>")
    parts.append(f"<li>Intervals: {config.bootstrap_replicates} bootstrap replicates resampling officers "
                 f"within each group (seed {config.seed}). Verdict intervals allow for the number of groups "
                 f"compared on each metric{'' if config.family_confidence else ' (switched off)'}.</li>")
    parts.append(f"<li>A verdict needs at least {config.min_group_officers} officers, {config.min_flags} flags "
                 f"and {config.min_positives} outcomes in the group and in its reference group.</li>")
    parts.append("<li>Every number here can be recomputed from the audit rows export (--rows).</li></ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _strength(auc) -> str:
    auc = plain(auc)
    if auc is None:
        return "n/a"
    distance = abs(auc - 0.5)
    return "none" if distance < 0.05 else "weak" if distance < 0.15 else "moderate" if distance < 0.25 else "strong"


def write_report(result, path: Path, title: str = "Bias audit") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(result, title))
    return path
