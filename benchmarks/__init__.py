"""Benchmarks: `python -m benchmarks.run` times every named question on one or more extracts."""
