from playground.qt.evaluate.panel import EvaluatePanel

__all__ = ["EvaluatePanel"]
