"""Synthetic DXA samples with ground truth, for development, tests and benchmarks."""
