"""URL normalisation and host rules. Pure: no I/O.

One normal form per page is what lets discovery de-duplicate links and lets the
archive key a page by URL: relative links resolved, ``#fragment`` dropped, scheme
and host lower-cased, default ports dropped, dot segments removed, non-ASCII and
spaces in the path percent-encoded. The query string is kept exactly as the site
wrote it, because CMS list pages (Lonsun ``?pageIndex=2&catId=…``) are keyed by it
and reordering or re-encoding could ask the server for a different page.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left alone when re-encoding a path: RFC 3986 pchar plus "/" and "%"
# (so existing %XX escapes survive and encoding twice changes nothing).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
# One fetch asks for the same URL's normal form and host several times (fetcher,
# allowed-host check, rate limiter, robots.txt, host health), and urllib's parsing
# costs ~10 µs a time: results are remembered, in a bounded cache so memory stays
# flat however many pages a crawl visits. Safe because every function here is pure.
_CACHE_SIZE = 4096


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Return the normal form of ``url`` (resolved against ``base``), or None.

    None means "not a page we could fetch": a non-http(s) scheme (``javascript:``,
    ``mailto:``, ``tel:``, ``data:``), no host, a bad port or otherwise unparsable
    text. The result is idempotent: ``normalize_url(normalize_url(u)) ==
    normalize_url(u)``.
    """
    return _normalize(url, base)


@lru_cache(maxsize=_CACHE_SIZE)
def _normalize(url: str, base: str | None) -> str | None:
    text = url.strip()
    if not text:
        return None if base is None else normalize_url(base)
    try:
        if base is not None:
            text = urljoin(base.strip(), text)
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return None
        hostname = parts.hostname  # lower-cased by urllib
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        return None
    if not hostname:
        return None
    host = _encode_host(hostname)
    if host is None:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = quote(_remove_dot_segments(parts.path), safe=_PATH_SAFE) or "/"
    if not path.startswith("/"):
        path = "/" + path
    return urlunsplit((scheme, host, path, parts.query, ""))


def host_of(url: str) -> str:
    """Return the lower-cased host of ``url``, with ``:port`` only if not the default.

    This is the key for per-host politeness (rate limit, concurrency, robots.txt):
    two servers on one address but different ports are different hosts. Returns
    "" when ``url`` has no usable host.
    """
    normal = normalize_url(url)
    return "" if normal is None else _hosts(normal)[0]


def is_allowed(url: str, allowed_hosts: Collection[str]) -> bool:
    """Return whether ``url`` is an http(s) URL on one of ``allowed_hosts``.

    Scope is host and port. An entry ``host:port`` (``127.0.0.1:8080``) allows that
    port of that host, whatever the scheme; a bare host (``www.xuancheng.gov.cn``)
    allows it on the default ports only: 80 for http, 443 for https, so the usual
    upgrade from http to https stays in scope but ``http://host:81/`` does not.
    Host names compare case-insensitively. No wildcard matching:
    ``xuancheng.gov.cn`` does not allow ``sjzy.xuancheng.gov.cn`` — a source lists
    each host it needs. An empty collection allows nothing.
    """
    normal = normalize_url(url)
    if normal is None:
        return False
    hostname, port, default = _endpoint(normal)
    for entry in allowed_hosts:
        allowed = _allowed_entry(entry)
        if allowed is None or allowed[0] != hostname:
            continue
        if allowed[1] == port or (allowed[1] is None and default):
            return True
    return False


@lru_cache(maxsize=_CACHE_SIZE)
def _hosts(normal: str) -> tuple[str, str]:
    """Return (host with any port, bare host name) of a normalised URL."""
    parts = urlsplit(normal)
    return parts.netloc, parts.hostname or ""


@lru_cache(maxsize=_CACHE_SIZE)
def _endpoint(normal: str) -> tuple[str, int, bool]:
    """Return (bare host name, port, whether it is the scheme's default) of a normal URL."""
    parts = urlsplit(normal)
    default = _DEFAULT_PORTS[parts.scheme]
    port = parts.port or default
    return parts.hostname or "", port, port == default


@lru_cache(maxsize=_CACHE_SIZE)
def _allowed_entry(entry: str) -> tuple[str, int | None] | None:
    """Return (host name, port or None for "the default ports") of an allowed-hosts entry.

    None for an entry that names no host (never matches).
    """
    try:
        parts = urlsplit("//" + entry.strip())
        port = parts.port
    except ValueError:
        return None
    host = _encode_host(parts.hostname or "")
    return (host, port) if host else None


def _encode_host(hostname: str) -> str | None:
    """Return ``hostname`` in ASCII (IDNA for 中文域名), or None if it cannot be."""
    if hostname.isascii():
        if any(c.isspace() or c in '<>"{}|\\^`' for c in hostname):
            return None
        return hostname.rstrip(".") or None
    try:
        return hostname.encode("idna").decode("ascii").rstrip(".") or None
    except UnicodeError:
        return None


def _remove_dot_segments(path: str) -> str:
    """Return ``path`` without ``.`` and ``..`` segments (RFC 3986 section 5.2.4)."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result
