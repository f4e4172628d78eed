"""Synthetic force generator: realistic input files for OpenEIS, with ground truth.

    from openeis.synth import SynthOptions, generate_force, parse_bias
    opts = SynthOptions(officers=2000, years=10, seed=1, start="2015-01-01",
                        biases=[parse_bias("upheld:group=B:1.5")], file_format="csv")
    summary = generate_force(opts, out_dir)   # {table: rows, ..., "anomalies": n}

See docs/synth.md for what the force looks like and which constants shape it.
"""

from openeis.synth.bias import BIAS_KINDS, BiasSpec, parse_bias
from openeis.synth.generate import STEPS, generate_force
from openeis.synth.ground_truth import GROUND_TRUTH_DIR
from openeis.synth.options import SynthOptions

__all__ = [
    "BIAS_KINDS",
    "GROUND_TRUTH_DIR",
    "STEPS",
    "BiasSpec",
    "SynthOptions",
    "generate_force",
    "parse_bias",
]
