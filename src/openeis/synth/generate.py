"""generate_force: run every step and write the input files and the ground truth."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.absences import build_absences
from openeis.synth.access import build_access
from openeis.synth.anomalies import AnomalyPlan
from openeis.synth.complaints import build_complaints, complaint_tables
from openeis.synth.context import Context
from openeis.synth.declarations import build_declarations
from openeis.synth.duty import build_duty, duty_table
from openeis.synth.effects import EffectInputs, measure
from openeis.synth.force import build_use_of_force
from openeis.synth.grid import build_grid
from openeis.synth.ground_truth import GROUND_TRUTH_DIR, GROUND_TRUTH_FILES, write_ground_truth
from openeis.synth.hr import build_commendations, build_reviews, build_training
from openeis.synth.options import SynthOptions
from openeis.synth.other_events import build_other_events
from openeis.synth.overtime import build_overtime
from openeis.synth.postings import build_postings
from openeis.synth.roster import build_roster
from openeis.synth.swaps import build_swaps
from openeis.synth.units import build_units
from openeis.synth.writer import FORMATS, TableSink

Progress = Callable[[str, int, int], None]

STEPS = (
    "units",
    "officers",
    "absences",
    "overtime_claims",
    "duty_periods",
    "complaints",
    "use_of_force",
    "shift_swaps",
    "performance_reviews",
    "training",
    "commendations",
    "declarations",
    "other_events",
    "system_access",
    "ground_truth",
    "write",
)


def _clear_outputs(out: Path) -> None:
    """Remove table files of an earlier run, so ingestion never mixes two runs."""
    for table in schema.TABLES:
        for fmt in FORMATS:
            path = out / f"{table.name}.{fmt}"
            if path.is_file():
                path.unlink()
    for name in GROUND_TRUTH_FILES:
        path = out / GROUND_TRUTH_DIR / name
        if path.is_file():
            path.unlink()


def generate_force(
    options: SynthOptions | Mapping[str, object],
    out_dir: str | Path,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Generate a synthetic force into out_dir; returns {table name: rows, "anomalies": n}.

    One `<table>.csv` (or `.parquet`) per schema table, plus OUT/ground_truth/. Same
    options (seed included) give byte-identical files.
    """
    if not isinstance(options, SynthOptions):
        options = SynthOptions.model_validate(dict(options))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear_outputs(out)
    ctx = Context.build(options)
    done = 0

    def step() -> None:
        nonlocal done
        if progress is not None:
            progress(STEPS[done], done + 1, len(STEPS))
        done += 1

    with TableSink(out, options.file_format) as sink:
        units = build_units(ctx)
        sink.put("units", units.table())
        step()

        roster = build_roster(ctx)
        postings = build_postings(ctx, roster, units)
        last = postings.last
        current_unit = C.lookup(units.ids, postings.unit[last])
        sink.put("officers", roster.officers_table(ctx, current_unit, postings.rank[last]))
        sink.put("officer_characteristics", roster.characteristics_table())
        sink.put("postings", postings.table(ctx, roster, units))
        grid = build_grid(ctx, roster, postings)
        plan = AnomalyPlan(ctx, roster)
        step()

        absences = build_absences(ctx, roster, grid, plan)
        sink.put("absences", absences.table(ctx, roster, plan))
        step()

        overtime = build_overtime(ctx, roster, grid, absences, plan)
        sink.put("overtime_claims", overtime.table(ctx, roster, plan))
        step()

        duty = build_duty(ctx, roster, grid, absences, overtime)
        del overtime
        sink.put("duty_periods", duty_table(grid, duty, roster, units))
        worked = duty.worked.astype(np.float64)
        worked_per_officer = np.bincount(grid.officer, weights=worked, minlength=roster.n)
        del duty
        step()

        complaints = build_complaints(ctx, roster, units, grid, worked)
        c_table, cp_table, a_table = complaint_tables(ctx, roster, units, complaints)
        sink.put("complaints", c_table)
        sink.put("complainants", cp_table)
        sink.put("allegations", a_table)
        del c_table, cp_table, a_table
        step()

        force_table, force_officers = build_use_of_force(ctx, roster, grid, worked)
        sink.put("use_of_force", force_table)
        del force_table
        step()

        sink.put("shift_swaps", build_swaps(ctx, roster, grid, absences, plan))
        step()
        sink.put("performance_reviews", build_reviews(ctx, roster))
        step()
        sink.put("training", build_training(ctx, roster, grid))
        step()
        sink.put("commendations", build_commendations(ctx, roster, grid))
        step()

        declarations, income = build_declarations(ctx, roster, plan)
        sink.put("declarations", declarations)
        step()
        sink.put("other_events", build_other_events(ctx, roster, grid, worked, income, plan))
        del income
        step()

        sink.put(
            "system_access", build_access(ctx, roster, postings, grid, absences, complaints, plan)
        )
        del grid, absences, worked
        step()

        effects = measure(
            EffectInputs(roster, postings, complaints, worked_per_officer, force_officers),
            options.biases,
        )
        counts = {t.name: sink.counts[t.name] for t in schema.TABLES}
        anomalies = write_ground_truth(sink, out, options, roster, plan, effects, counts)
        step()
    step()
    summary: dict[str, int] = dict(counts)
    summary["anomalies"] = anomalies
    return summary
