"""Fetching: the one owner of HTTP.

:mod:`.fetch` (the httpx client: politeness, retries, redirects, size caps),
:mod:`.response` (what a fetch returns), :mod:`.retry`, :mod:`.robots`,
:mod:`.ratelimit`, :mod:`.urls` and :mod:`.urllimit` (URL normalisation, scope and
length), :mod:`.decompression` (bounded Content-Encoding) and :mod:`.challenge`
(WAF challenge and soft-404 pages). Only :mod:`.fetch` imports httpx; the rest are
pure decisions the parser and the crawl may share.
"""
