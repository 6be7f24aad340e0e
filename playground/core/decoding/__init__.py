"""Decoding: one KV-cached step, the sampling rules, streaming generation, the stepper."""
