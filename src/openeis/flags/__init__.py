"""Scoring the cohort, capacity-limited flags, and their explanations in plain sentences."""
