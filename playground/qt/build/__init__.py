from playground.qt.build.panel import BuildPanel

__all__ = ["BuildPanel"]
