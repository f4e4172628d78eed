"""Units: commands (parents) and the teams officers are posted to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from openeis import schema
from openeis.synth import columns as C
from openeis.synth.context import Context
from openeis.synth.profiles import (
    COMMAND_NAMES,
    FUNCTION_PROFILES,
    MIN_TEAMS,
    OFFICERS_PER_UNIT,
    TEAM_FUNCTIONS,
    TEAMS_PER_COMMAND,
    UNIT_SIZE_SIGMA,
)
from openeis.synth.sampling import integers

FUNCTION_INDEX = {f: i for i, f in enumerate(schema.UNIT_FUNCTIONS)}
UNIT_RECORDED_YEARS_BEFORE = (6, 25)  # units entered the records 6-25 years before start


@dataclass
class Units:
    ids: pa.Array  # unit id strings, commands first
    names: list[str]
    function: np.ndarray  # index into schema.UNIT_FUNCTIONS
    command: np.ndarray  # index of the parent command unit, -1 for commands
    weight: np.ndarray  # relative size among units of the same function
    recorded: np.ndarray  # day numbers
    n_commands: int

    @property
    def n(self) -> int:
        return len(self.function)

    def of_function(self, function_index: int) -> np.ndarray:
        return np.flatnonzero(self.function == function_index)

    def table(self) -> pa.Table:
        parent = np.where(self.command >= 0, self.command, 0)
        return C.build_table(
            "units",
            {
                "unit_id": self.ids,
                "unit_name": pa.array(self.names, pa.string()),
                "function": C.schema_codes("units", "function", self.function),
                "parent_unit_id": C.lookup(self.ids, parent, self.command >= 0),
                "recorded_at": C.dates(self.recorded),
            },
        )


def team_counts(officers: int) -> dict[str, int]:
    """Number of teams per function: about one per OFFICERS_PER_UNIT, at least one each."""
    total = max(MIN_TEAMS, round(officers / OFFICERS_PER_UNIT))
    total = max(total, len(TEAM_FUNCTIONS))
    shares = np.array([FUNCTION_PROFILES[f].share for f in TEAM_FUNCTIONS])
    shares = shares / shares.sum()
    spare = total - len(TEAM_FUNCTIONS)
    raw = shares * spare
    counts = np.floor(raw).astype(int)
    left = spare - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:left]] += 1
    return {f: int(c) + 1 for f, c in zip(TEAM_FUNCTIONS, counts, strict=True)}


def build_units(ctx: Context) -> Units:
    rng = ctx.rng("units")
    counts = team_counts(ctx.options.officers)
    n_teams = sum(counts.values())
    n_commands = max(2, round(n_teams / TEAMS_PER_COMMAND))
    n = n_commands + n_teams
    digits = C.digits_for(n, 4)
    ids = C.fixed_width(["U", (np.arange(1, n + 1), digits)], n)

    names = []
    for i in range(n_commands):
        base = COMMAND_NAMES[i % len(COMMAND_NAMES)]
        suffix = f" {i // len(COMMAND_NAMES) + 1}" if i >= len(COMMAND_NAMES) else ""
        names.append(f"{base}{suffix} Command")
    function = [FUNCTION_INDEX["other"]] * n_commands
    for f, count in counts.items():
        label = FUNCTION_PROFILES[f].unit_name
        names.extend(f"{label} {k}" for k in range(1, count + 1))
        function.extend([FUNCTION_INDEX[f]] * count)

    command = np.full(n, -1, dtype=np.int32)
    command[n_commands:] = rng.permutation(np.arange(n_teams) % n_commands)
    weight = np.ones(n)
    weight[n_commands:] = rng.lognormal(0.0, UNIT_SIZE_SIGMA, n_teams)
    lo, hi = UNIT_RECORDED_YEARS_BEFORE
    recorded = ctx.timeline.start - integers(rng, lo * 365, hi * 365 + np.zeros(n, int))
    # A command entered the records no later than its first team.
    first = np.full(n_commands, np.iinfo(np.int64).max)
    np.minimum.at(first, command[n_commands:], recorded[n_commands:])
    recorded[:n_commands] = np.minimum(recorded[:n_commands], first)
    return Units(
        ids=ids,
        names=names,
        function=np.array(function, dtype=np.int16),
        command=command,
        weight=weight,
        recorded=recorded.astype(np.int32),
        n_commands=n_commands,
    )
