"""Train and register a model (promotion through the bias gate is an action of
openeis.application.models, which asks the policy and logs it)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from openeis.config import OpenEISConfig
from openeis.models import data, registry
from openeis.models.streamed import training_rows
from openeis.models.train import train_with
from openeis.store import Store


def train_and_register(store: Store, config: OpenEISConfig, as_of: date | None, label: str,
                       actor: registry.Changer, progress=None, features: Path | None = None) -> registry.RegisteredModel:
    """`features`: a feature file built earlier holding every training date (else they are
    built here)."""
    as_of = as_of or data.latest_data_date(store)
    records_start = data.first_record_date(store, label, config)
    maturity = data.label_maturity(store, label, config, as_of)
    dates = data.training_dates(config, as_of, label, records_start, maturity)
    if len(dates) < config.splits.min_train_dates:
        raise ValueError(f"only {len(dates)} training dates before {as_of} "
                         f"({data.plan_description(config, label)}: {maturity}); "
                         f"{config.splits.min_train_dates} needed (change [splits] in the config or --as-of)")
    if features is not None:
        data.check_feature_file(store, features, dates)
    labels = data.label_frame(store, dates, label, config, known_at=data.training_labels_known_at(config, as_of))
    with tempfile.TemporaryDirectory(prefix="openeis-train-") as tmp:
        training = training_rows(store, dates, labels, label, config, Path(tmp), progress=progress,
                                 features=features, records_start=records_start)
        del labels
        result = train_with(training, dates, as_of)
    return registry.register(store, result.model, label=label, trained_as_of=as_of, train_dates=dates,
                             config=config, data_hash=data.data_snapshot_hash(store),
                             metrics=result.metrics() | {"label_maturity_months": maturity}, actor=actor)
