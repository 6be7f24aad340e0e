"""Distillation: a smaller student trained on a teacher's soft targets (Qt-free)."""
