"""Helpers for the scheduler tests: a lock-holding child process, daemon subprocesses, configs."""
