"""Reasoning strategies side by side (issue 31 §1): the Qt-free core of the Build tab's Reasoning section.

``sandbox.run_program(code)`` / ``sandbox.evaluate_expression(text)``: the PAL sandbox (a whitelisted
Python subset interpreted node by node, refusals with their reason); ``sandbox_rules``: the whitelist
and limits.
"""
