"""Training on more rows than fit in memory: the training file streamed into LightGBM.

Above `[models] stream_above_rows` training rows, `openeis train` does not load the feature
frame. The features and labels go to one Parquet file ordered by as-of date (each date a
contiguous range of rows, `data.training_file`), and LightGBM bins it a row group at a time
through `lightgbm.Sequence`: one byte per cell instead of the sixteen of a float64 frame and
its matrix. The validation and calibration folds are subsets of that one binned Dataset;
held-out dates are read back one at a time to be scored. Logistic candidates, which need
the matrix itself, are fitted in memory on a seeded sample (`streamed_logistic_rows`).

Selection, calibration and the model's contract are those of in-memory training
(models/train.py, models/estimator.py); only where the rows come from differs. Measured:
docs/scale.md, "Training at scale".
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openeis.config import OpenEISConfig
from openeis.models.estimator import Candidate, RiskModel, _folds, grid
from openeis.models.matrix import CATEGORICAL, MatrixSpec
from openeis.models import data
from openeis.models.train import (
    BinnedRows,
    LoadedTraining,
    Selection,
    TrainingResult,
    as_model,
    fit_candidate,
    fit_platt,
    select,
    train_with,
)
from openeis.store import Store


class TrainingFile:
    """A training file's rows: labels and dates in memory (a few bytes a row), features read
    from the file when asked for."""

    def __init__(self, path: Path, label: str):
        self.path = Path(path)
        self.label = label
        self.parquet = pq.ParquetFile(self.path)
        keys = self.parquet.read(columns=["as_of", label])
        self.y = keys.column(label).to_numpy().astype(int)
        as_of = pc.cast(keys.column("as_of"), pa.date32()).to_numpy(zero_copy_only=False)
        self.dates = [d.astype("datetime64[D]").astype(object) for d in np.unique(as_of)]
        self.date_of_row = np.searchsorted(np.array(self.dates, dtype="datetime64[D]"), as_of)
        bounds = np.searchsorted(self.date_of_row, np.arange(len(self.dates) + 1))
        self.ranges = {d: (int(bounds[i]), int(bounds[i + 1])) for i, d in enumerate(self.dates)}
        sizes = [self.parquet.metadata.row_group(i).num_rows for i in range(self.parquet.num_row_groups)]
        self.starts = np.cumsum([0, *sizes])  # first row of each row group, and the end
        names = self.parquet.schema_arrow.names
        self.columns = [n for n in names if n != label]
        present = [c for c in CATEGORICAL if c in names]
        categorical = self.parquet.read(columns=present).to_pandas() if present else pd.DataFrame()
        self.spec = MatrixSpec.from_columns(self.parquet.schema_arrow.empty_table().to_pandas()
                                            .drop(columns=[label]), categorical)

    def __len__(self) -> int:
        return len(self.y)

    def rows_of(self, dates: list[date]) -> np.ndarray:
        return np.concatenate([np.arange(*self.ranges[d]) for d in sorted(dates) if d in self.ranges]
                              or [np.array([], dtype=np.int64)])

    def frame_of(self, day: date) -> pd.DataFrame:
        """One date's rows as a feature frame with the label (a cohort: small)."""
        first, last = self.ranges[day]
        groups = self.groups(first, last)
        table = self.parquet.read_row_groups(groups)
        return table.slice(first - int(self.starts[groups[0]]), last - first).to_pandas()

    def sample_frame(self, rows: np.ndarray, limit: int, seed: int) -> pd.DataFrame:
        """Up to `limit` of these rows, chosen by the seed, read a row group at a time."""
        if len(rows) > limit:
            rows = np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))
        group_of = np.searchsorted(self.starts, rows, "right") - 1
        parts = []
        for group in np.unique(group_of):
            local = rows[group_of == group] - self.starts[group]
            parts.append(self.parquet.read_row_group(int(group)).take(pa.array(local)))
        return pa.concat_tables(parts).to_pandas()

    def groups(self, first: int, last: int) -> list[int]:
        """The row groups holding rows first..last-1."""
        return list(range(int(np.searchsorted(self.starts, first, "right") - 1),
                          int(np.searchsorted(self.starts, last - 1, "right"))))


def _sequence(file: TrainingFile):
    import lightgbm as lgb

    class MatrixRows(lgb.Sequence):
        """The model matrix of the training file, read one row group at a time."""

        batch_size = int(file.parquet.metadata.row_group(0).num_rows) if file.parquet.num_row_groups else 1

        def __init__(self):
            self.cached: tuple[int, np.ndarray | None] = (-1, None)

        def __len__(self) -> int:
            return len(file)

        def _group(self, group: int) -> np.ndarray:
            if self.cached[0] != group:
                frame = file.parquet.read_row_group(group, columns=file.columns).to_pandas()
                self.cached = (group, file.spec.matrix(frame))
            return self.cached[1]

        def __getitem__(self, idx):
            if isinstance(idx, slice):
                start, stop, _ = idx.indices(len(self))
                groups = file.groups(start, stop)
                parts = [self._group(g) for g in groups]
                block = parts[0] if len(parts) == 1 else np.vstack(parts)
                offset = start - int(file.starts[groups[0]])
                return block[offset:offset + stop - start]
            # LightGBM samples single rows in increasing order to find the bin edges
            group = int(np.searchsorted(file.starts, idx, "right") - 1)
            return self._group(group)[idx - int(file.starts[group])]

    return MatrixRows()


def fit_streamed(candidate: Candidate, file: TrainingFile, binned: BinnedRows, rows: np.ndarray,
                 config: OpenEISConfig, calibrate: bool) -> RiskModel:
    """Fit one candidate on these rows of the file, calibrated on refits over folds by as-of
    date (for a training without validation folds; `StreamedTraining.fit` calibrates on its
    selection's out-of-time margins)."""
    m = config.models
    if candidate.kind != "lightgbm":
        frame = file.sample_frame(rows, m.streamed_logistic_rows, m.seed)
        return fit_candidate(candidate, frame, file.label, config, calibrate=calibrate)
    model = as_model(candidate, file.spec, binned.fit(candidate, rows), config)
    if calibrate:
        model.platt_ = _platt(candidate, file, binned, rows, model, config)
    return model


def _platt(candidate: Candidate, file: TrainingFile, binned: BinnedRows, rows: np.ndarray,
           model: RiskModel, config: OpenEISConfig) -> tuple[float, float]:
    """Platt scaling on out-of-fold margins, folds by as-of date (as RiskModel.fit)."""
    y = file.y[rows]
    groups = file.date_of_row[rows]
    out_of_fold = np.empty(len(rows))
    for train, test in _folds(y, groups, config.models.calibration_folds, config.models.seed):
        fold = model if y[train].min() == y[train].max() else as_model(
            candidate, file.spec, binned.fit(candidate, rows[train]), config)
        for d in np.unique(groups[test]):  # held-out rows scored a date at a time
            day = file.dates[d]
            where = np.flatnonzero(groups == d)
            margins = fold.decision_function(file.frame_of(day))
            out_of_fold[where] = margins[rows[where] - file.ranges[day][0]]
    return fit_platt(out_of_fold, y)


class StreamedTraining:
    """Training rows in a training file, streamed (the methods of `train.LoadedTraining`)."""

    streamed = True

    def __init__(self, path: Path, label: str, config: OpenEISConfig, records_start: date | None = None):
        self.file = TrainingFile(path, label)
        self.binned = BinnedRows(_sequence(self.file), self.file.y, config)
        self.label = label
        self.config = config
        self.records_start = records_start
        self.y = self.file.y

    @property
    def rows(self) -> int:
        return len(self.file)

    @property
    def positives(self) -> int:
        return int(self.file.y.sum())

    def rows_of(self, dates: list[date]) -> np.ndarray:
        return self.file.rows_of(dates)

    def frame_of(self, day: date) -> pd.DataFrame:
        return self.file.frame_of(day)

    def margins(self, model: RiskModel, day: date, frame: pd.DataFrame | None = None) -> np.ndarray:
        return model.decision_function(self.file.frame_of(day) if frame is None else frame)

    def fit_rows(self, candidate: Candidate, rows: np.ndarray, platt: tuple[float, float] | None = None) -> RiskModel:
        """The candidate on these rows (logistic ones on a seeded sample of them)."""
        m = self.config.models
        if candidate.kind == "lightgbm":
            return as_model(candidate, self.file.spec, self.binned.fit(candidate, rows), self.config,
                            platt or (1.0, 0.0))
        frame = self.file.sample_frame(rows, m.streamed_logistic_rows, m.seed)
        model = fit_candidate(candidate, frame, self.label, self.config, calibrate=False)
        if platt is not None:
            model.platt_ = platt
        return model

    def select(self, dates: list[date]) -> Selection:
        return select(self, dates, self.config, grid(self.config.models))

    def fit(self, candidate: Candidate, calibrate: bool = True, selection: Selection | None = None) -> RiskModel:
        platt = selection.calibration(candidate) if (calibrate and selection is not None) else None
        every_row = np.arange(len(self.file))
        if calibrate and platt is None:
            return fit_streamed(candidate, self.file, self.binned, every_row, self.config, True)
        return self.fit_rows(candidate, every_row, platt)


def training_rows(store: Store, dates: list[date], labels: pd.DataFrame, label: str, config: OpenEISConfig,
                  directory: Path, progress=None, features: Path | None = None,
                  records_start: date | None = None) -> LoadedTraining | StreamedTraining:
    """The dates' features with their labels: loaded, or above `stream_above_rows` written to
    a training file in `directory` (which must outlive the training) and streamed.
    `features`: a feature file holding these dates, built earlier (else they are built here)."""
    if len(labels) > config.models.stream_above_rows:
        path = data.training_file(store, dates, labels, label, config, directory, progress=progress,
                                  features=features)
        return StreamedTraining(path, label, config, records_start)
    if features is None:
        frame = data.feature_frame(store, dates, config, progress=progress)
    else:
        frame = data.features_of_dates(features, dates)
    frame = data.with_labels(frame, labels, label)  # the unlabelled frame is freed here
    return LoadedTraining(frame, label, config, records_start)


def train_on_file(path: Path, label: str, dates: list[date], as_of: date, config: OpenEISConfig,
                  records_start: date | None = None) -> TrainingResult:
    """`train.train_on` for a training file too big to load."""
    return train_with(StreamedTraining(path, label, config, records_start), dates, as_of)
