"""Evaluation: datasets, metrics, ROUGE explained, reports."""
