"""Benchmarks: each prints figures (min / median / max over runs); none asserts a clock."""
