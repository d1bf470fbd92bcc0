"""Hostile and broken sites (issue 16): one module per concern, each on 127.0.0.1 only."""
