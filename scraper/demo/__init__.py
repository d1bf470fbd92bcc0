"""``govarchive demo``: a bundled replica of a disclosure site, crawled twice, offline.

- :mod:`scraper.demo.site` — the replica (documents.json, detail.html, list.html) and its server.
- :mod:`scraper.demo.run` — the two crawls through the real pipeline and the SQL shown.
"""
