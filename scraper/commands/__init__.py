"""One module per CLI command (or command group); :mod:`scraper.cli` assembles them."""
