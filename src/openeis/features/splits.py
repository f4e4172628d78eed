"""Temporal splits: train on the past as it was known, test on a later date.

For each test as-of date T, the training as-of dates are those whose label window closes on
or before T (d + label window <= T), and their labels are computed as known on T: findings
decided after T are not yet known (they are `open`), records made after T do not exist.
So a backtest replays exactly what the force could have done on T.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openeis.features.dates import add_months, month_range
from openeis.config.features import LabelsConfig, SplitsConfig
from openeis.features.labels import label_window_months


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


def split_plan(config: SplitsConfig | None = None, labels: LabelsConfig | None = None) -> list[Split]:
    config = config or SplitsConfig()
    dates = month_range(date.fromisoformat(config.start), date.fromisoformat(config.end),
                        config.frequency_months)
    window = label_window_months(config.label, labels)
    first_test = date.fromisoformat(config.first_test) if config.first_test else None
    splits = []
    for t in dates:
        if first_test and t < first_test:
            continue
        train = [d for d in dates if add_months(d, window) <= t]
        if config.max_train_dates:
            train = train[-config.max_train_dates:]
        if len(train) < config.min_train_dates:
            continue
        splits.append(Split(t, tuple(train), t if config.known_at_test_date else None))
    return splits
