from playground.qt.inside.panel import InsidePanel

__all__ = ["InsidePanel"]
