"""Risk models: threshold rules and baselines, candidate models with calibrated probabilities,
temporal model selection, the registry and backtests.

No names are re-exported here: import the submodules (openeis.models.train, .backtest,
.registry, ...), so that reading the registry does not load scikit-learn and LightGBM.
"""
