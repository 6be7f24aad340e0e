"""The Fine-tune tab: a wizard that trains a LoRA adapter (or prompt tuning, or full fine-tuning)
and shows what it costs and what it changes."""

from playground.qt.finetune.panel import FinetunePanel

__all__ = ["FinetunePanel"]
