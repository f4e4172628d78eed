"""Labels: what happened to an officer in the window after an as-of date, as known at a date.

`sustained_12m` on D is 1 when the officer has an upheld allegation on a complaint recorded
in [D, D + 12 months). A label is computed *as known at* `known_at`, by the same boundary
rule as features (sources.py): only records known at known_at exist (recorded before that
day) and only decisions known then count (an allegation decided on or after known_at is still
open). known_at defaults to "everything in the store". Backtests pass the test date as
known_at for training labels (splits.py). The window [D, D + 12 months) holds, by day, exactly
what is not yet known on D: a record dated D is a label event for D, never a feature on D.
"""

from __future__ import annotations

from datetime import date

from openeis.features.cohort import cohort_sql
from openeis.features.compile import DefinitionError, _phase_for
from openeis.features.dates import add_months, dates_sql, day_number
from openeis.config.features import LabelDefinition, LabelsConfig, _default_labels
from openeis.features.sources import NO_VERSIONS, source, source_sql
from openeis.store import Store

ON_COLUMNS = {"occurred_at": "occ_floor_day", "recorded_at": "rec_floor_day",
              "complaint_recorded_at": "complaint_rec_floor_day"}


def label_definitions(config: LabelsConfig | None = None) -> dict[str, LabelDefinition]:
    """Built-in labels, overridden or extended by the config's, by name."""
    out = {d.name: d for d in _default_labels()}
    for d in (config.definitions if config else []):
        out[d.name] = d
    return out


def _label_sql(d: LabelDefinition, defs: dict[str, LabelDefinition], known_day: int | None,
               months_col: dict[str, str], versions: frozenset[str] = NO_VERSIONS) -> str:
    """Expression over grid g giving 0/1 for one label."""
    if d.any_of:
        parts = []
        for name in d.any_of:
            if name not in defs or name == d.name:
                raise DefinitionError(f"label {d.name}: unknown label {name!r} in any_of")
            parts.append(_label_sql(defs[name], defs, known_day, months_col, versions))
        return "greatest(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]
    src = source(d.source)
    if d.on not in ON_COLUMNS or (d.on == "complaint_recorded_at" and d.source != "allegations"):
        raise DefinitionError(f"label {d.name}: `on` must be one of {', '.join(ON_COLUMNS)}")
    phase = _phase_for(src, d.where)
    rows = source_sql(src, phase, versions=versions, known_at_day=known_day)
    if known_day is not None:
        # exists by known_at, and in the phase (and version) that holds on known_at
        known = f" AND s.vis_day <= {known_day} AND (s.until_day IS NULL OR s.until_day > {known_day})"
    else:
        known = " AND s.until_day IS NULL"  # the latest phase and version: everything the store knows
    where = f" AND ({d.where})" if d.where else ""
    on = ON_COLUMNS[d.on]
    end = months_col[d.name]
    return (f"CASE WHEN EXISTS (SELECT 1 FROM ({rows}) s WHERE s.officer = g.officer "
            f"AND s.{on} >= g.day AND s.{on} < g.{end}{known}{where}) THEN 1 ELSE 0 END")


def labels_sql(dates: list[date], names: list[str], config: LabelsConfig | None = None,
               known_at: date | None = None, versions: frozenset[str] = NO_VERSIONS) -> str:
    defs = label_definitions(config)
    for name in names:
        if name not in defs:
            raise DefinitionError(f"unknown label {name!r}; known: {', '.join(defs)}")
    windows = sorted({_window(defs, n) for n in names})
    end_cols = {w: f"end_{w}" for w in windows}
    # the window's end day per as-of date, calendar months ahead
    ends = ", ".join(
        "(" + ", ".join([str(i)] + [str(day_number(add_months(d, w))) for w in windows]) + ")"
        for i, d in enumerate(sorted(dates))
    )
    end_names = ", ".join(end_cols[w] for w in windows)
    months_col = {n: end_cols[w] for n in defs if (w := _window_or_none(defs, n)) in end_cols}
    known_day = day_number(known_at) if known_at else None
    selects = ", ".join(f"{_label_sql(defs[n], defs, known_day, months_col, versions)} AS {n}" for n in names)
    return (f"WITH dates AS ({dates_sql(sorted(dates))}), grid AS ({cohort_sql(versions=versions)}), "
            f"ends AS (SELECT * FROM (VALUES {ends}) AS v(idx, {end_names})) "
            f"SELECT g.officer, g.as_of, {selects} FROM (SELECT grid.*, {end_names} FROM grid "
            f"JOIN ends ON ends.idx = grid.idx) g ORDER BY g.as_of, g.officer")


def _window(defs: dict[str, LabelDefinition], name: str) -> int:
    d = defs[name]
    if d.any_of:
        windows = {_window(defs, n) for n in d.any_of}
        if len(windows) != 1:
            raise DefinitionError(f"label {name}: combined labels need one window length")
        return windows.pop()
    return d.window_months


def _window_or_none(defs: dict[str, LabelDefinition], name: str) -> int | None:
    try:
        return _window(defs, name)
    except DefinitionError:
        return None


def compute_labels(store: Store, dates: list[date], names: list[str] | None = None,
                   config: LabelsConfig | None = None, known_at: date | None = None):
    """Arrow table (officer, as_of, <label>...) for the cohort on each date."""
    from openeis.features.engine import query_arrow

    from openeis.features.sources import versioned_tables

    names = names or [(config or LabelsConfig()).default]
    return query_arrow(store, labels_sql(dates, names, config, known_at, versioned_tables(store)))


def label_window_months(name: str, config: LabelsConfig | None = None) -> int:
    return _window(label_definitions(config), name)
