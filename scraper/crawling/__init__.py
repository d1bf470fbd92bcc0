"""Crawling: one source's run, composed from fetching, reading and storage.

:mod:`.discover` walks list pages to detail URLs, :mod:`.pipeline` fetches, reads and
archives each page (one transaction per page), :mod:`.parsepool` runs the parser in
a worker process with a time limit so that no page can freeze the crawl, and
:mod:`.exclusive` crawls only the sources no other process is crawling (their locks held
meanwhile): ``govarchive crawl`` is a call to it.
"""
