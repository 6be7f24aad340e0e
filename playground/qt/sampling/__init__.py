"""The Sampling tab: the next-token distribution under greedy, temperature, top-k and top-p."""

from playground.qt.sampling.panel import SamplingPanel

__all__ = ["SamplingPanel"]
