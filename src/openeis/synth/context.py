"""What every generation step shares: the options, the timeline and the random streams."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openeis.synth.options import SynthOptions
from openeis.synth.sampling import stream
from openeis.synth.timeline import Timeline


@dataclass(frozen=True)
class Context:
    options: SynthOptions
    timeline: Timeline

    @classmethod
    def build(cls, options: SynthOptions) -> Context:
        return cls(options, Timeline.build(options.start, options.end))

    def rng(self, name: str) -> np.random.Generator:
        """The random stream of one generation step."""
        return stream(self.options.seed, name)
