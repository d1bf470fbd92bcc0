"""robots.txt rules for our user agent (RFC 9309, plus Crawl-delay). Pure.

Why not :mod:`urllib.robotparser`: it applies the first matching rule in file
order instead of the longest match, knows no ``*`` / ``$`` wildcards, and matches
user agents by substring. This parser follows RFC 9309: the groups naming our
product token (else the ``*`` groups) apply, merged; the longest matching pattern
wins and Allow wins a tie; ``/robots.txt`` itself is always allowed.

How an unusual robots.txt answer is read (:func:`rules_from_response`):

- 2xx: parsed. A larger file is cut: its first 500 KiB are kept and parsed (RFC 9309
  section 2.5 asks for at least that much), without the line the cut falls in, so a
  rule is never read shortened (``Allow: /pub`` out of ``Allow: /publications``).
  Size never turns a refusal into a permission: a body that cannot be cut (sent
  compressed past the cap) disallows everything (:meth:`RobotsRules.disallow_all`).
- 4xx, including 401/403 and a 412 challenge: no robots.txt, everything allowed (RFC 9309).
- 5xx or unreachable: everything allowed, and the caller logs a warning. RFC 9309
  (and Google) would disallow everything instead; we do not, because many
  government CMSs answer a missing robots.txt with a 500 error page, and a
  disallow-all would silently stop those sources for good. A host that is really
  down fails its page requests too, and those are retried (a host whose name does not
  resolve: paused at once) and recorded. docs/operations.md says the same to users.

Crawl-delay is read as the site wrote it (the largest value of the groups that apply;
``inf`` too); :meth:`RobotsRules.capped` bounds it by ``max_crawl_delay``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit

from scraper.fetching.urls import normalize_url

#: Bytes of robots.txt parsed at most (RFC 9309 section 2.5: at least 500 KiB).
MAX_ROBOTS_BYTES = 500 * 1024

_PATTERN_SAFE = "/%:@!$&'()*+,;=-._~?"
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


@dataclass(frozen=True, slots=True)
class RobotsRule:
    """One Allow or Disallow line of the group that applies to us."""

    allow: bool
    pattern: str  # as written, percent-encoded
    regex: re.Pattern[str] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The verdicts of one host's robots.txt for one user agent.

    ``note`` says where the rules came from ("robots.txt 404: everything
    allowed"), for logs and ``check-source``.
    """

    rules: tuple[RobotsRule, ...] = ()
    crawl_delay: float | None = None
    note: str = ""

    def allowed(self, url: str) -> bool:
        """Return whether ``url`` (absolute, or a path) may be fetched."""
        target = _path_and_query(url)
        if target == "/robots.txt":
            return True
        best: RobotsRule | None = None
        best_length = -1
        for rule in self.rules:
            if rule.regex.match(target) is None:
                continue
            length = len(rule.pattern)
            if length > best_length or (length == best_length and rule.allow):
                best, best_length = rule, length
        return best is None or best.allow

    @classmethod
    def allow_all(cls, note: str) -> RobotsRules:
        """Return rules that allow everything, saying why in ``note``."""
        return cls(note=note)

    @classmethod
    def disallow_all(cls, note: str) -> RobotsRules:
        """Return rules that disallow everything but /robots.txt, saying why in ``note``."""
        return cls((RobotsRule(False, "/", _compile("/")),), note=note)

    def capped(self, max_delay: float) -> RobotsRules:
        """Return these rules with Crawl-delay at most ``max_delay`` seconds.

        Returns ``self`` when the site asked for no more; otherwise a copy whose
        ``crawl_delay`` is ``max_delay`` and whose ``note`` says what was asked.
        """
        if self.crawl_delay is None or self.crawl_delay <= max_delay:
            return self
        said = f"Crawl-delay {self.crawl_delay:g} s capped at max_crawl_delay {max_delay:g} s"
        note = f"{self.note}; {said}" if self.note else said
        return replace(self, crawl_delay=max_delay, note=note)


def robots_url(url: str) -> str:
    """Return the robots.txt URL for ``url``'s scheme and host (ValueError if not http(s))."""
    normal = normalize_url(url)
    if normal is None:
        raise ValueError(f"not an http(s) URL: {url!r}")
    parts = urlsplit(normal)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def product_token(user_agent: str) -> str:
    """Return the token robots.txt groups are matched on: ``govarchive/0.1 (+…)`` → govarchive."""
    match = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return match.group(0).lower() if match else user_agent.strip().lower()


def rules_from_response(
    status: int | None,
    body: bytes | None,
    user_agent: str,
    *,
    error: str | None = None,
    truncated: bool = False,
) -> RobotsRules:
    """Return the rules an answer to a robots.txt request means (see the module docstring).

    ``status`` None means no answer (``error`` says why). ``truncated`` says that
    ``body`` is the first part of a larger file (cut at :data:`MAX_ROBOTS_BYTES`).
    """
    if status is None:
        return RobotsRules.allow_all(f"robots.txt unreachable ({error}): everything allowed")
    if 200 <= status < 300:
        data = body or b""
        if truncated or len(data) > MAX_ROBOTS_BYTES:
            note = f"robots.txt {status} (only its first {MAX_ROBOTS_BYTES} bytes read)"
            return parse_robots(_whole_lines(data[:MAX_ROBOTS_BYTES]), user_agent, note=note)
        return parse_robots(data, user_agent, note=f"robots.txt {status}")
    if 400 <= status < 500:
        return RobotsRules.allow_all(f"robots.txt {status}: no robots.txt, everything allowed")
    return RobotsRules.allow_all(f"robots.txt {status}: server error, everything allowed")


def parse_robots(data: bytes | str, user_agent: str, *, note: str = "") -> RobotsRules:
    """Return the rules of robots.txt ``data`` that apply to ``user_agent``. Never raises."""
    text = _decode(data) if isinstance(data, bytes) else data
    token = product_token(user_agent)
    groups: list[tuple[list[str], list[tuple[str, str]]]] = []
    agents: list[str] = []
    lines: list[tuple[str, str]] = []
    in_rules = False
    for raw in text.splitlines():
        key, sep, value = raw.split("#", 1)[0].partition(":")
        if not sep:
            continue
        key = key.strip().lower().replace("_", "-")
        value = value.strip()
        if key == "user-agent":
            if in_rules:  # a user-agent line after rules starts a new group
                groups.append((agents, lines))
                agents, lines, in_rules = [], [], False
            agents.append(value.lower())
        elif key in ("allow", "disallow", "crawl-delay") and agents:
            in_rules = True
            lines.append((key, value))
    if agents:
        groups.append((agents, lines))

    mine = [g for g in groups if any(_agent_matches(a, token) for a in g[0])]
    if not mine:
        mine = [g for g in groups if "*" in g[0]]
    rules: list[RobotsRule] = []
    delay: float | None = None
    for _, group_lines in mine:
        for key, value in group_lines:
            if key == "crawl-delay":
                delay = _max_delay(delay, value)
            elif value:  # an empty Disallow allows everything: no rule
                pattern = _encode_pattern(value)
                rules.append(RobotsRule(key == "allow", pattern, _compile(pattern)))
    return RobotsRules(tuple(rules), delay, note)


def _whole_lines(data: bytes) -> bytes:
    """Return ``data`` without its last, unfinished line (the part of a file that was cut)."""
    end = max(data.rfind(b"\n"), data.rfind(b"\r"))
    return data[: end + 1]


def _decode(data: bytes) -> str:
    if len(data) > MAX_ROBOTS_BYTES:
        data = _whole_lines(data[:MAX_ROBOTS_BYTES])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # some Chinese servers save robots.txt in GBK; only comments and paths differ
        return data.decode("gb18030", errors="replace")


def _agent_matches(agent: str, token: str) -> bool:
    """Return whether a ``User-agent`` value names our product token (case-insensitive)."""
    match = re.match(r"[a-z_-]+", agent)
    return match is not None and match.group(0) == token


def _max_delay(current: float | None, value: str) -> float | None:
    try:
        delay = float(value)
    except ValueError:
        return current
    if not delay >= 0:  # negative or NaN; an infinite delay is kept, for the cap to bound
        return current
    return delay if current is None else max(current, delay)


def _encode_pattern(value: str) -> str:
    if not value.startswith(("/", "*")):
        value = "/" + value
    return _upper_escapes(quote(value, safe=_PATTERN_SAFE))


def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + (r"\Z" if anchored else ""), re.DOTALL)


def _path_and_query(url: str) -> str:
    if url.startswith("/"):
        path = url.split("#", 1)[0]
    else:
        parts = urlsplit(normalize_url(url) or url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _upper_escapes(quote(path, safe=_PATTERN_SAFE))


def _upper_escapes(text: str) -> str:
    """Return ``text`` with percent escapes upper-cased, so %e5 and %E5 compare equal."""
    return _PERCENT.sub(lambda m: m.group(0).upper(), text)
