"""Shared pytest fixtures. Each area keeps its fixtures in a plugin module of its own."""

pytest_plugins = [
    "tests.plugins.db",
    "tests.plugins.site",
]
