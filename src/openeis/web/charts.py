"""Vega-Lite chart specifications for the pages (rendered in the browser by the vendored Vega).

Readable and accessible: every chart has a title, a description (Vega gives it to screen
readers as the SVG's aria label), labelled axes, and shape or dash as well as colour wherever
series differ; each page also shows the numbers behind a chart as a table.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier; nothing is fetched
WIDTH = 560


def _base(title: str, description: str, values: list[dict], height: int = 220) -> dict[str, Any]:
    return {"$schema": SCHEMA, "title": title, "description": description, "width": WIDTH,
            "height": height, "data": {"values": values},
            "config": {"font": "system-ui, sans-serif", "axis": {"labelFontSize": 12, "titleFontSize": 13}}}


def score_history(points: list[dict]) -> dict[str, Any]:
    """Percentile in the cohort on each scored date (one line per model)."""
    values = [{"as_of": p["as_of"], "percentile": round(p["percentile"], 1), "model": p["model_id"]}
              for p in points]
    spec = _base("Score history", "The officer's percentile among all officers scored on each date, "
                 "by model. Higher means ranked closer to the top.", values)
    spec["mark"] = {"type": "line", "point": {"filled": True, "size": 60}}
    spec["encoding"] = {
        "x": {"field": "as_of", "type": "temporal", "title": "As-of date"},
        "y": {"field": "percentile", "type": "quantitative", "title": "Percentile in cohort",
              "scale": {"domain": [0, 100]}},
        "color": {"field": "model", "type": "nominal", "title": "Model"},
        "strokeDash": {"field": "model", "type": "nominal", "title": "Model"},
        "shape": {"field": "model", "type": "nominal", "title": "Model"},
        "tooltip": [{"field": "as_of", "type": "temporal"}, {"field": "percentile"}, {"field": "model"}],
    }
    return spec


def peer_comparison(factors: list[dict]) -> dict[str, Any]:
    """Each explanation factor: the officer's value against the median of their peers."""
    values = []
    for factor in factors:
        if isinstance(factor.get("value"), (int, float)):
            values.append({"factor": factor["feature"], "who": "This officer", "value": factor["value"]})
        if isinstance(factor.get("peer_median"), (int, float)):
            values.append({"factor": factor["feature"], "who": "Peer median", "value": factor["peer_median"]})
    spec = _base("Officer against peers", "For each factor behind the flag, the officer's value "
                 "(circle) and the median of peers in the same unit and role (square).", values,
                 height=max(80, 34 * len(factors)))
    spec["mark"] = {"type": "point", "filled": True, "size": 120}
    spec["encoding"] = {
        "y": {"field": "factor", "type": "nominal", "title": None, "sort": None,
              "axis": {"labelLimit": 260}},
        "x": {"field": "value", "type": "quantitative", "title": "Value", "axis": {"tickCount": 6}},
        "shape": {"field": "who", "type": "nominal", "title": None,
                  "scale": {"domain": ["This officer", "Peer median"], "range": ["circle", "square"]}},
        "color": {"field": "who", "type": "nominal", "title": None,
                  "scale": {"domain": ["This officer", "Peer median"], "range": ["#b3261e", "#555555"]}},
        "tooltip": [{"field": "factor"}, {"field": "who"}, {"field": "value"}],
    }
    return spec


def group_rates(rows: list[dict], metric: str, title: str) -> dict[str, Any]:
    """A metric by group with its confidence interval: point and error bar, labelled."""
    values = [{"group": f"{r['characteristic']}: {r['group']}", "value": r["value"],
               "low": r.get("low"), "high": r.get("high")} for r in rows if r.get("value") is not None]
    spec = _base(title, f"{metric} for each group, with its 95% bootstrap interval as a horizontal "
                 "line. Groups are labelled on the vertical axis.", values, height=max(80, 28 * len(values)))
    y = {"field": "group", "type": "nominal", "title": None, "sort": None, "axis": {"labelLimit": 260}}
    spec["layer"] = [
        {"mark": {"type": "rule", "strokeWidth": 2},
         "encoding": {"y": y, "x": {"field": "low", "type": "quantitative", "title": metric},
                      "x2": {"field": "high"}}},
        {"mark": {"type": "point", "filled": True, "size": 90, "shape": "diamond"},
         "encoding": {"y": y, "x": {"field": "value", "type": "quantitative"},
                      "tooltip": [{"field": "group"}, {"field": "value", "format": ".3f"},
                                  {"field": "low", "format": ".3f"}, {"field": "high", "format": ".3f"}]}},
    ]
    return spec


def backtest_precision(rows: list[dict]) -> dict[str, Any]:
    """Precision at capacity per test date: the model against the baselines."""
    spec = _base("Precision at capacity by test date", "Share of flagged officers with the outcome "
                 "in the following label window, on each backtest date, for the model and each "
                 "baseline (different line dash and point shape per method).", rows)
    spec["mark"] = {"type": "line", "point": {"filled": True, "size": 60}}
    spec["encoding"] = {
        "x": {"field": "as_of", "type": "temporal", "title": "Test date"},
        "y": {"field": "precision", "type": "quantitative", "title": "Precision at capacity"},
        "color": {"field": "method", "type": "nominal", "title": "Method"},
        "strokeDash": {"field": "method", "type": "nominal", "title": "Method"},
        "shape": {"field": "method", "type": "nominal", "title": "Method"},
        "tooltip": [{"field": "as_of", "type": "temporal"}, {"field": "method"},
                    {"field": "precision", "format": ".3f"}],
    }
    return spec
