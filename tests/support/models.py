"""A small, fast model configuration for the model tests (one candidate of each kind, few
trees, a split plan that fits six synthetic years)."""

FAST_MODELS = """
[models]
logistic_c = [0.05]
lightgbm = [{num_leaves = 7, n_estimators = 40, learning_rate = 0.1, min_child_samples = 30, colsample_bytree = 0.5, max_bin = 63}]
validation_dates = 2
calibration_folds = 2

[splits]
start = "2016-01-01"
end = "2020-01-01"
frequency_months = 6
"""
