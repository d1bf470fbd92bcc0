"""govarchive's crawler side: configuration, fetching, discovery, parsing, scheduling, CLI."""

__version__ = "0.1.0"
