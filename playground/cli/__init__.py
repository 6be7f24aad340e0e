"""The headless command line: a thin shell over playground.core."""
