"""Hostile and broken sites (issue 16): one module per concern, each named for it."""
