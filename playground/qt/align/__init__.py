"""The Align tab: Feedback -> Reward model -> Optimize -> Result."""

from playground.qt.align.panel import AlignPanel

__all__ = ["AlignPanel"]
