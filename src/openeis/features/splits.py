"""Temporal splits: train on the past as it was known, test on a later date.

For each test as-of date T, the training as-of dates are those whose label has *matured* by
T: the label window closed at least the label's maturity before T (d + window + maturity <= T).
The maturity is `[splits] label_maturity_months`, or by default measured from the store on T
(models/data.py `label_maturity`): the median time from an outcome being recorded to being
decided, among the outcomes decided by T. Their labels are computed as known on T: findings decided after
T are not yet known (they are `open`), records made after T do not exist. So a backtest
replays exactly what the force could have done on T.

Why maturity: a finding is made months after the complaint (in Chicago's records half of the
upheld findings took 16-24 months). A training date whose window closed just before T has
most of its findings still open on T, so the officers with the most recent complaints look
clean, and a model learns the opposite of the truth (docs/models.md, "Training labels").

Which dates: the config's plan (`start`..`end` every `frequency_months`), or, by default,
dates derived for each test date: counted back every `frequency_months` from the latest
matured date, over `lookback_years`, and no earlier than a year after the store's first
record (a date needs a year of records before it for its 1-year features to be complete).
So the defaults work on data of any era.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from openeis.features.compile import DefinitionError
from openeis.features.dates import add_months, month_range
from openeis.config.features import LabelsConfig, SplitsConfig
from openeis.features.labels import label_window_months

HISTORY_MONTHS = 12  # records a training date needs before it (derived plans)


@dataclass(frozen=True)
class Split:
    test_date: date
    train_dates: tuple[date, ...]
    train_labels_known_at: date | None  # None: everything the store knows

    def as_dict(self) -> dict:
        return {
            "test_date": self.test_date.isoformat(),
            "train_dates": [d.isoformat() for d in self.train_dates],
            "train_labels_known_at": self.train_labels_known_at.isoformat()
            if self.train_labels_known_at else None,
        }


def latest_matured(test_date: date, window_months: int, maturity_months: int) -> date:
    """The latest as-of date whose label has matured by `test_date`."""
    return add_months(test_date, -(window_months + maturity_months))


def maturity_steps(months: float, config: SplitsConfig) -> int:
    """A measured maturity rounded up to whole steps of the plan (so that the training dates
    of test dates a whole number of steps apart fall on one grid: one feature build)."""
    step = config.frequency_months
    return math.ceil(months / step) * step if months > 0 else 0


def training_dates(test_date: date, config: SplitsConfig, window_months: int,
                   records_start: date | None = None, maturity_months: int | None = None) -> list[date]:
    """The as-of dates a model tested (or scoring) on `test_date` trains on, oldest first.
    `records_start`: the first record of the label's source (bounds a derived plan).
    `maturity_months`: the label's maturity (`[splits] label_maturity_months` if set, else
    this, measured by the caller from the store; 0 if neither)."""
    if config.label_maturity_months is not None:
        maturity_months = config.label_maturity_months
    latest = latest_matured(test_date, window_months, maturity_months or 0)
    if config.end:
        latest = min(latest, date.fromisoformat(config.end))
    if config.start:  # the configured plan: aligned on its start
        dates = month_range(date.fromisoformat(config.start), latest, config.frequency_months)
    else:  # derived: counted back from the latest matured date
        earliest = add_months(test_date, -12 * config.lookback_years)
        if records_start is not None:
            earliest = max(earliest, add_months(records_start, HISTORY_MONTHS))
        dates, k = [], 0
        while (d := add_months(latest, -k * config.frequency_months)) >= earliest:
            dates.append(d)
            k += 1
        dates.reverse()
    if config.max_train_dates:
        dates = dates[-config.max_train_dates:]
    return dates


def split_plan(config: SplitsConfig | None = None, labels: LabelsConfig | None = None,
               test_dates: list[date] | None = None, records_start: date | None = None,
               maturity: dict[date, int] | None = None) -> list[Split]:
    """The plan for these test dates (default: the configured plan's own dates, from
    `first_test`); test dates with fewer than `min_train_dates` training dates are left out.
    `maturity`: the label's measured maturity on each test date (models/data.py
    `label_maturity`; without it, and without `label_maturity_months`, none)."""
    config = config or SplitsConfig()
    window = label_window_months(config.label, labels)
    if test_dates is None:
        if not (config.start and config.end):
            raise DefinitionError("the split plan is derived from the test dates and the store's "
                                  "records: give the test dates (openeis splits --as-of ...), or set "
                                  "[splits] start and end")
        test_dates = month_range(date.fromisoformat(config.start), date.fromisoformat(config.end),
                                 config.frequency_months)
        if config.first_test:
            test_dates = [t for t in test_dates if t >= date.fromisoformat(config.first_test)]
    splits = []
    for t in sorted(test_dates):
        train = training_dates(t, config, window, records_start, (maturity or {}).get(t))
        if len(train) < config.min_train_dates:
            continue
        splits.append(Split(t, tuple(train), t if config.known_at_test_date else None))
    return splits
