"""Benchmarks: one documented command each."""
