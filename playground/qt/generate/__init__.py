from playground.qt.generate.panel import GeneratePanel

__all__ = ["GeneratePanel"]
