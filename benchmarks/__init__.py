"""Benchmarks of the environments and agents, each module a script (see README.md)."""
