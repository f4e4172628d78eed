"""OpenEIS: an open early-intervention system for police professional-standards work.

A flag is a prompt for a human reviewer, never a verdict.
"""

__version__ = "0.1.0"
