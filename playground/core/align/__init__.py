"""Alignment: preference pairs, a Bradley-Terry reward model, and policy optimization with a KL
penalty (GRPO, RLOO, PPO, DPO) on a LoRA policy whose reference is its adapter switched off.

Modules: preferences (trl's pair format, checks), losses (reward-model, DPO, GRPO/RLOO pieces),
ppo (value head, KL-shaped rewards, GAE, clipped losses), rewards (plain callables, weights),
policy (sampling, per-token log-probs, the reference), reward_model (quick and full modes),
steps (one optimizer step of each method), job (the run: events, run folder, resume).
No Qt here. The losses are checked against trl 1.16 in tests/core/test_align_parity.py.
"""
