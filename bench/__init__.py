"""Benchmarks and scripted reliability checks; each prints ratios or verdicts, never asserts a time."""
