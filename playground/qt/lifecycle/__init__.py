from playground.qt.lifecycle.panel import LifecyclePanel

__all__ = ["LifecyclePanel"]
