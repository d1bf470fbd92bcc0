"""The local test site on 127.0.0.1, port 0 (owned by the crawl tests)."""
