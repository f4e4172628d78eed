"""OpenEIS: an open early-intervention system for police professional-standards work.

A flag is a prompt for a human reviewer, never a verdict.
"""

from openeis.thread_pools import configure_environment

# Before numpy, LightGBM, scikit-learn or DuckDB load: their thread pools read it then.
configure_environment()

__version__ = "0.1.0"
