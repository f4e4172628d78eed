"""Governance beside the pipeline: who may do what, and a tamper-evident log of it."""
