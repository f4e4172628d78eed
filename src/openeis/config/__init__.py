"""The configuration: one light section per stage, and the whole file that holds them.

Every section imports only Pydantic and the data model (openeis.schema), so any layer may
read its section without loading another layer's code:

    settings.py      OpenEISConfig (the whole file), load_config, the generated reference
    features.py      [features], [labels], [splits]: feature families, labels, split plans
    models.py        [models], [rules], [flags]: candidates, threshold rules, review capacity
    queue.py         [queue]: the review budget shared by every source, the welfare queue
    audit.py         [audit]: metrics, fairness band, reference groups
    detectors.py     [detectors]: the integrity detectors' settings
    retention.py     [retention]: per-table retention rules and their defaults
    transparency.py  [transparency]: the published records
"""

from openeis.config.settings import (
    ConfigFileError,
    IngestConfig,
    OpenEISConfig,
    PrivacyConfig,
    SignInConfig,
    config_markdown,
    load_config,
)

__all__ = ["ConfigFileError", "IngestConfig", "OpenEISConfig", "PrivacyConfig", "SignInConfig", "config_markdown",
           "load_config"]
