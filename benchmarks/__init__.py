"""Benchmarks: scripts that measure Neuroclinic at clinic-network scale (see README.md)."""
