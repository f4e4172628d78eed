"""Monitoring: is the model going stale?

For each date the model has scored: the score distribution and each input feature's
distribution against the first scored date (population stability index, PSI), and the
realised precision of that date's flags as the outcomes arrive (the label as the store knows
it now; partial while the label window is still open).
PSI under 0.1 is usually read as stable, 0.1-0.25 as a shift worth watching, above 0.25 as a
shift that needs looking at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from openeis.config import OpenEISConfig
from openeis.features.dates import add_months
from openeis.features.labels import label_window_months
from openeis.html_report import escape, figure, fmt, page, plt, svg, table
from openeis.models import data, registry
from openeis.store import Store

PSI_WATCH = 0.1
PSI_ACT = 0.25


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float | None:
    """Population stability index of `current` against `reference` (quantile bins of the
    reference; NaN is its own bin)."""
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    if len(reference) == 0 or len(current) == 0:
        return None
    finite = reference[~np.isnan(reference)]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if len(finite) else np.array([])

    def shares(x: np.ndarray) -> np.ndarray:
        nan = np.isnan(x)
        counts = np.bincount(np.searchsorted(edges, x[~nan], side="right"), minlength=len(edges) + 1)
        out = np.append(counts, nan.sum()).astype(float)
        return np.clip(out / len(x), 1e-4, None)

    r, c = shares(reference), shares(current)
    return float(np.sum((c - r) * np.log(c / r)))


def run_monitor(store: Store, config: OpenEISConfig, model_id: str | None = None) -> dict:
    entry = registry.get(store, model_id) if model_id else registry.scoring_model(store)[0]
    model = registry.load(store, entry.model_id)
    rows = store.query("SELECT as_of, officer, score FROM scores WHERE model_id = ? ORDER BY as_of, officer",
                       [entry.model_id])
    if not rows:
        raise ValueError(f"model {entry.model_id} has not scored anyone yet: run `openeis score` first")
    scores = pd.DataFrame(rows, columns=["as_of", "officer", "score"])
    dates = sorted(scores["as_of"].unique())
    features = data.feature_frame(store, dates, config)
    outcomes = data.label_frame(store, dates, entry.label, config, known_at=None)
    latest = data.latest_data_date(store)
    window = label_window_months(entry.label, config.labels)
    flagged = store.query("SELECT as_of, officer FROM flags WHERE model_id = ? AND source = 'model'",
                          [entry.model_id])
    flags = pd.DataFrame(flagged, columns=["as_of", "officer"])
    inputs = [c for c in model.input_features_source if c in features.columns
              and pd.api.types.is_numeric_dtype(features[c])]
    first = dates[0]
    reference_scores = scores.loc[scores["as_of"] == first, "score"].to_numpy()
    reference_features = features[features["as_of"] == first]
    periods, warnings = [], []
    for d in dates:
        s = scores.loc[scores["as_of"] == d, "score"].to_numpy()
        current = features[features["as_of"] == d]
        drift = {f: psi(reference_features[f].to_numpy(dtype=float, na_value=np.nan),
                        current[f].to_numpy(dtype=float, na_value=np.nan)) for f in inputs}
        drifting = sorted((f for f, v in drift.items() if v is not None and v > PSI_ACT),
                          key=lambda f: -drift[f])
        f_today = flags[flags["as_of"] == d].merge(outcomes, on=["officer", "as_of"], how="left")
        positives = int(f_today[entry.label].fillna(0).sum()) if len(f_today) else 0
        closed = add_months(d, window) <= latest
        period = {
            "as_of": d.isoformat(), "scored": int(len(s)), "mean_score": float(np.mean(s)),
            "score_quantiles": {q: float(np.quantile(s, q / 100)) for q in (50, 90, 99)},
            "score_psi": psi(reference_scores, s),
            "feature_psi": {f: v for f, v in sorted(drift.items(), key=lambda kv: -(kv[1] or 0))[:15]},
            "drifting_features": drifting,
            "flags": int(len(f_today)), "flags_with_outcome": positives,
            "realised_precision": positives / len(f_today) if len(f_today) else None,
            "outcome_window_closed": closed,
        }
        periods.append(period)
        if period["score_psi"] is not None and period["score_psi"] > PSI_ACT:
            warnings.append(f"{d}: score distribution shifted (PSI {period['score_psi']:.2f} against {first})")
        if drifting:
            warnings.append(f"{d}: {len(drifting)} input features shifted (PSI > {PSI_ACT}), e.g. {', '.join(drifting[:3])}")
    expected = (entry.metrics.get("selection", {}).get("candidates", {})
                .get(entry.candidate, {}).get("mean"))
    for p in periods:
        if p["outcome_window_closed"] and expected and p["realised_precision"] is not None \
                and p["flags"] >= 10 and p["realised_precision"] < expected / 2:
            warnings.append(f"{p['as_of']}: realised precision {p['realised_precision']:.2f} is under half "
                            f"the {expected:.2f} expected at training: the model may be stale")
    return {"model_id": entry.model_id, "label": entry.label, "reference_date": first.isoformat(),
            "expected_precision_at_capacity": expected, "periods": periods, "warnings": warnings}


def monitor_html(result: dict, force_name: str) -> str:
    periods = result["periods"]
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    x = [p["as_of"] for p in periods]
    ax.plot(x, [p["score_psi"] or 0 for p in periods], "o-", label="score PSI vs first date")
    ax.axhline(PSI_WATCH, linestyle=":", color="grey", label=f"watch ({PSI_WATCH})")
    ax.axhline(PSI_ACT, linestyle="--", color="black", label=f"act ({PSI_ACT})")
    ax.set_ylabel("PSI")
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", rotation=45)
    charts = [figure(svg(fig), "Shift of the score distribution from the first scored date (PSI).")]
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.plot(x, [np.nan if p["realised_precision"] is None else p["realised_precision"] for p in periods],
            "s-", label="realised precision of flags")
    if result["expected_precision_at_capacity"]:
        ax.axhline(result["expected_precision_at_capacity"], linestyle="--", color="black",
                   label="expected at training")
    ax.set_ylabel("precision")
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", rotation=45)
    charts.append(figure(svg(fig), "Share of each date's flags whose outcome happened (partial while "
                         "the outcome window is open)."))
    rows = [[p["as_of"], p["scored"], fmt(p["mean_score"]), fmt(p["score_psi"]), len(p["drifting_features"]),
             p["flags"], "yes" if p["outcome_window_closed"] else "no", fmt(p["realised_precision"])]
            for p in periods]
    warn = "".join(f"<li>{escape(w)}</li>" for w in result["warnings"]) or "<li>none</li>"
    body = (f"<p>Model {escape(result['model_id'])}, label {escape(result['label'])}.</p>"
            f"<h2>Warnings</h2><ul>{warn}</ul>" + "".join(charts) +
            table(["as of", "scored", "mean score", "score PSI", "features drifting", "flags",
                   "outcome window closed", "realised precision"], rows))
    return page(f"{force_name}: model monitoring", body)
