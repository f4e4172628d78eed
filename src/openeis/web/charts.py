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
    # "container": as wide as the page allows (a phone's 390 px too), never wider
    return {"$schema": SCHEMA, "title": title, "description": description, "width": "container",
            "autosize": {"type": "fit", "contains": "padding"},
            "height": height, "data": {"values": values},
            "config": {"font": "system-ui, sans-serif", "axis": {"labelFontSize": 12, "titleFontSize": 13},
                       "legend": {"orient": "bottom", "columns": 2}}}


def _date_axis(dates: list[str], title: str | None) -> dict[str, Any]:
    """A date axis with a tick on each date given, labelled as a date ("31 Dec 2020")."""
    return {"field": "as_of", "type": "temporal", "title": title,
            "axis": {"values": sorted(set(dates))[-8:], "format": "%d %b %Y", "labelAngle": -30,
                     "labelOverlap": True}}


def score_history(points: list[dict]) -> dict[str, Any]:
    """The score and the percentile in the cohort on each scored date, one line per model
    (a shadow model's labelled so); two panels sharing the date axis."""
    values = [{"as_of": p["as_of"], "score": round(100 * p["score"], 2), "percentile": round(p["percentile"], 1),
               "model": p["model_id"] + (" (shadow)" if p.get("shadow") else "")} for p in points]
    dates = [p["as_of"] for p in points]
    spec = _base("Score and percentile over time", "For each date the officer was scored: the model's "
                 "estimated chance of the outcome (score, %) and the officer's percentile among all officers "
                 "scored, by model. Shadow models' scores were never published.", values, height=140)
    common = {"color": {"field": "model", "type": "nominal", "title": "Model"},
              "strokeDash": {"field": "model", "type": "nominal", "title": "Model"},
              "shape": {"field": "model", "type": "nominal", "title": "Model"}}
    del spec["width"]
    spec["vconcat"] = [
        {"width": "container", "height": 120, "mark": {"type": "line", "point": {"filled": True, "size": 60}},
         "encoding": {"x": _date_axis(dates, None), "y": {"field": "score", "type": "quantitative", "title": "Score (%)"},
                      "tooltip": [{"field": "as_of", "type": "temporal", "format": "%d %b %Y"}, {"field": "score"},
                                  {"field": "model"}], **common}},
        {"width": "container", "height": 120, "mark": {"type": "line", "point": {"filled": True, "size": 60}},
         "encoding": {"x": _date_axis(dates, "Scored on"),
                      "y": {"field": "percentile", "type": "quantitative", "title": "Percentile",
                            "scale": {"domain": [0, 100]}},
                      "tooltip": [{"field": "as_of", "type": "temporal", "format": "%d %b %Y"},
                                  {"field": "percentile"}, {"field": "model"}], **common}},
    ]
    return spec


def records_by_month(counts: list[dict]) -> dict[str, Any]:
    """The officer's records by month and kind: a stacked bar per month."""
    spec = _base("Records by month", "How many of the officer's records of each kind happened in each month "
                 "(bars stacked by kind; the table and the records page list them).", counts, height=180)
    spec["mark"] = {"type": "bar"}
    spec["encoding"] = {
        "x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": "Month",
              "axis": {"format": "%b %Y", "labelAngle": -30, "labelOverlap": True}},
        "y": {"field": "records", "type": "quantitative", "title": "Records", "stack": "zero"},
        "color": {"field": "kind", "type": "nominal", "title": "Kind", "scale": {"scheme": "tableau10"}},
        "tooltip": [{"field": "month", "type": "temporal", "timeUnit": "yearmonth"}, {"field": "kind"},
                    {"field": "records"}],
    }
    return spec


def peer_comparison(factors: list[dict]) -> dict[str, Any]:
    """Each explanation factor on its own scale: the officer's percentile among their peers
    (0 = below all of them, 100 = above all), so that a count of complaints and hours of
    overtime can sit on one chart without one dwarfing the other."""
    values = [{"factor": f.get("label") or f["feature"], "percentile": round(f["peer_percentile"], 1),
               "value": f.get("value"), "peer_median": f.get("peer_median")}
              for f in factors if f.get("peer_percentile") is not None]
    spec = _base("Where the officer stands among peers", "For each factor behind the flag, the officer's "
                 "percentile among peers in the same unit and role (50 is the peer median).", values,
                 height=60 + 40 * len(values))
    y = {"field": "factor", "type": "nominal", "title": None, "sort": None, "axis": {"labelLimit": 220}}
    spec["layer"] = [
        {"mark": {"type": "rule", "strokeDash": [4, 3], "color": "#777"}, "encoding": {"x": {"datum": 50}}},
        {"mark": {"type": "point", "filled": True, "size": 130, "shape": "circle", "color": "#b3261e"},
         "encoding": {"y": y, "x": {"field": "percentile", "type": "quantitative", "title": "Percentile among peers",
                                    "scale": {"domain": [0, 100]}},
                      "tooltip": [{"field": "factor"}, {"field": "percentile", "title": "percentile"},
                                  {"field": "value", "title": "officer"},
                                  {"field": "peer_median", "title": "peer median"}]}},
    ]
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
