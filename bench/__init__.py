"""Benchmarks, run by hand (never in the test suite): see each module's docstring."""
