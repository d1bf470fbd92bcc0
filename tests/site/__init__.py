"""The local test site: an HTTP server on 127.0.0.1 (server.py) and the pages it serves (pages.py).

Importable outside pytest (``from tests.site.server import serve``) so bench/crawl.py can reuse it.
"""
