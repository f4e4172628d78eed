"""The human side of a flag: who works it, what they decided and why, and what happened after."""
