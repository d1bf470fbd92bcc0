"""Scheduling: when crawls run.

:mod:`.schedule` holds the APScheduler wiring and the catch-up decision;
:mod:`.daemon` is the long-running process behind ``govarchive schedule``.
"""
