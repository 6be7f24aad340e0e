from playground.qt.prompt.panel import PromptPanel

__all__ = ["PromptPanel"]
