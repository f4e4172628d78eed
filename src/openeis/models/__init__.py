"""Risk models: threshold rules and baselines, candidate models with calibrated probabilities,
temporal model selection, the registry and backtests.

Import the submodules directly (openeis.models.train, .backtest, .registry, ...): openeis.config
imports openeis.models.config, which must not pull in scikit-learn.
"""
