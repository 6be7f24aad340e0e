"""Prompting: tokens, templates, summarization prompts, the prompt lab and its history."""
