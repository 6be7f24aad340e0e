"""LLM Playground: see and feel how large language models work, on your own machine."""

__version__ = "0.1.0"
APP_NAME = "LLM Playground"
