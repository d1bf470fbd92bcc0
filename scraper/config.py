"""Load and validate config.yaml into frozen, typed objects, before any request.

Precedence, lowest to highest: the defaults in :mod:`scraper.settings` < ``crawl:``
in config.yaml < a source's own keys < environment (``GOVARCHIVE_DATABASE_URL``) <
command-line flags. Every refusal is a :class:`~scraper.errors.ConfigError` whose
message names the file, the source and the key; all problems of a file are
reported at once. docs/config.md documents every key.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import types
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger

from scraper.errors import ConfigError
from scraper.fetching.urls import host_of, is_allowed, normalize_url
from scraper.parse.links import selector_error
from scraper.scheduling.cron import apscheduler_day_of_week
from scraper.settings import (
    DEFAULT_DATABASE_URL,
    CrawlSettings,
    SchedulerSettings,
    WorkerSettings,
)

#: Environment variable that overrides ``database:`` in config.yaml.
DATABASE_ENV = "GOVARCHIVE_DATABASE_URL"
#: Where the commands look for the config file when ``--config`` is not given.
DEFAULT_CONFIG_PATH = Path("config.yaml")

TOP_KEYS = ("database", "crawl", "scheduler", "workers", "sources")
CRAWL_KEYS = tuple(f.name for f in fields(CrawlSettings))
SOURCE_OWN_KEYS = (
    "name",
    "start_urls",
    "detail_links",
    "list_links",
    "list_url_template",
    "schedule",
)
SOURCE_REQUIRED_KEYS = ("name", "start_urls", "detail_links")
#: A source may use its own keys and override any ``crawl:`` key.
SOURCE_KEYS = SOURCE_OWN_KEYS + CRAWL_KEYS

# Lower bounds of numeric settings: (bound, inclusive). A rate or timeout of 0
# would stall the crawl; a concurrency of 0 would never fetch at all.
_LIMITS: dict[str, tuple[float, bool]] = {
    "requests_per_second": (0, False),
    "per_host_concurrency": (1, True),
    "max_concurrency": (1, True),
    "timeout": (0, False),
    "retries": (0, True),
    "backoff_base": (0, True),
    "max_retry_after": (0, True),
    # 0 would silently ignore every Crawl-delay while claiming to obey robots.txt
    "max_crawl_delay": (0, False),
    "max_page_bytes": (1, True),
    "max_list_pages": (1, True),
    "revisit_after_hours": (0, False),
    "host_failure_threshold": (1, True),
    "parse_timeout": (0, False),
    "parse_workers": (1, True),
    "max_attachment_bytes": (1, True),
    "max_attachments_per_page": (0, True),
    "attachment_timeout": (0, False),
    "jitter_seconds": (0, True),
    "misfire_grace_seconds": (1, True),
    "max_parallel_sources": (1, True),
    "concurrency": (1, True),
    "max_attempts": (1, True),
    "retry_wait_seconds": (0, True),
    "heartbeat_seconds": (0, False),
    "stalled_after_seconds": (0, False),
}
# Source names appear on the command line (--source NAME), in logs and in lock keys.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# An allowed_hosts entry: a host name, or host:port. Scope is host and port: a bare
# host means its default ports (80 for http, 443 for https); see scraper.fetching.urls.is_allowed.
_HOST = re.compile(r"^[a-z0-9.-]+(:\d{1,5})?$")
# An attachment_types entry: a file extension without its dot.
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One configured source: where its list pages are and how to read them.

    ``start_urls`` are normalised. ``settings`` is the merge defaults < ``crawl:``
    < the source's own keys, with ``allowed_hosts`` filled in (by default the
    hosts of the start URLs and of the list URL template).
    """

    name: str
    start_urls: tuple[str, ...]
    detail_links: str
    list_links: str | None
    list_url_template: str | None
    schedule: str | None
    """The 5-field cron of ``govarchive schedule``; None for a source crawled by hand."""
    settings: CrawlSettings


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated config.yaml."""

    database: str | None
    crawl: CrawlSettings
    scheduler: SchedulerSettings
    sources: tuple[SourceConfig, ...]
    workers: WorkerSettings = field(default_factory=WorkerSettings)

    @property
    def source_names(self) -> tuple[str, ...]:
        """Return the sources' names in file order."""
        return tuple(s.name for s in self.sources)

    def source(self, name: str) -> SourceConfig:
        """Return the source called ``name``; ConfigError listing the known names if none is."""
        for source in self.sources:
            if source.name == name:
                return source
        close = difflib.get_close_matches(name, self.source_names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(self.source_names) or "none"
        raise ConfigError(f"no source named {name!r}{hint}; known sources: {known}")


def default_config_path(cli_value: Path | None) -> Path | None:
    """Return the config file to use: ``--config`` if given, else ./config.yaml if it exists.

    None means "no config file": commands that need sources then say so; the
    database URL falls back to the environment and the default.
    """
    if cli_value is not None:
        return cli_value
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def database_url(
    cli_value: str | None,
    config_path: Path | None,
    env: Mapping[str, str] = os.environ,
) -> str:
    """Return the archive's SQLAlchemy URL. Reads config_path only when needed.

    Precedence: ``--database`` (cli_value) > ``GOVARCHIVE_DATABASE_URL`` >
    ``database:`` in config.yaml > ``sqlite:///archive.db``. A config_path of None
    (the default path, absent) is not an error; a given file that is missing,
    unreadable or not valid YAML raises ConfigError. Only the ``database:`` key
    is checked here; :func:`load_config` validates the rest.
    """
    if cli_value:
        return cli_value
    from_env = env.get(DATABASE_ENV, "").strip()
    if from_env:
        return from_env
    if config_path is not None:
        value = _read_yaml(config_path).get("database")
        if value is not None:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    "must be a non-empty string (an SQLAlchemy URL)",
                    where=f"{config_path}: database",
                )
            return value.strip()
    return DEFAULT_DATABASE_URL


def load_config(path: Path) -> Config:
    """Read and validate the config file at ``path``. Reads the file; makes no request.

    Raises ConfigError naming the file, source and key of every problem.
    """
    return config_from_mapping(_read_yaml(path), origin=str(path))


def config_from_mapping(document: Mapping[str, Any], *, origin: str = "config") -> Config:
    """Validate an already-parsed config document; ``origin`` names it in messages."""
    problems = _Problems(origin)
    problems.check_keys(document, TOP_KEYS, "")

    database = document.get("database")
    if database is not None and (not isinstance(database, str) or not database.strip()):
        problems.add("database", "must be a non-empty string (an SQLAlchemy URL)")
        database = None

    scheduler = _scheduler_settings(document.get("scheduler"), problems)
    workers = _worker_settings(document.get("workers"), problems)
    crawl = _crawl_settings(document.get("crawl"), CrawlSettings(), problems, "crawl")
    tz = scheduler.timezone if _zone_error(scheduler.timezone) is None else "UTC"

    raw_sources = document.get("sources")
    sources: list[SourceConfig] = []
    if raw_sources is None or raw_sources == []:
        problems.add("sources", "no sources configured: add at least one source")
    elif not isinstance(raw_sources, list):
        problems.add("sources", f"must be a list of sources, not {_type_name(raw_sources)}")
    else:
        first_index: dict[str, int] = {}
        for index, raw in enumerate(raw_sources):
            source = _source(raw, index, crawl, tz, problems)
            if source is None:
                continue
            if source.name in first_index:
                problems.add(
                    f"source {source.name!r}: name",
                    f"duplicate source name (sources[{first_index[source.name]}] "
                    f"and sources[{index}]); names must be unique",
                )
                continue
            first_index[source.name] = index
            sources.append(source)

    problems.raise_if_any()
    return Config(
        database=database.strip() if isinstance(database, str) else None,
        crawl=crawl,
        scheduler=scheduler,
        sources=tuple(sources),
        workers=workers,
    )


class _Problems:
    """Collects every problem of one file so the user can fix them in one go."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, message: str) -> None:
        self.items.append((where, message))

    def check_keys(self, mapping: Mapping[str, Any], known: Iterable[str], where: str) -> None:
        """Record every key of ``mapping`` not in ``known``, with the closest known key."""
        known = tuple(known)
        prefix = f"{where}: " if where else ""
        for key in mapping:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            self.add(f"{prefix}{key}", f"unknown key ({hint})")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        (where, message), *rest = self.items
        if rest:
            others = "\n".join(f"  {self.origin}: {w}: {m}" for w, m in rest)
            message = f"{message}\n{len(rest)} more problem(s):\n{others}"
        raise ConfigError(message, where=f"{self.origin}: {where}")


def _scheduler_settings(raw: Any, problems: _Problems) -> SchedulerSettings:
    """Return the ``scheduler:`` section over the defaults; record its problems."""
    defaults = SchedulerSettings()
    values = _section_values(raw, SchedulerSettings, problems, "scheduler")
    settings = replace(defaults, **values)
    zone_error = _zone_error(settings.timezone)
    if zone_error is not None:
        problems.add("scheduler: timezone", zone_error)
    return settings


def _worker_settings(raw: Any, problems: _Problems) -> WorkerSettings:
    """Return the ``workers:`` section over the defaults; record its problems."""
    settings = replace(
        WorkerSettings(), **_section_values(raw, WorkerSettings, problems, "workers")
    )
    if settings.stalled_after_seconds <= settings.heartbeat_seconds:
        problems.add(
            "workers: stalled_after_seconds",
            f"must be longer than heartbeat_seconds ({settings.heartbeat_seconds:g}), not "
            f"{settings.stalled_after_seconds:g}: a live worker would be taken for dead",
        )
    return settings


def _crawl_settings(
    raw: Any, base: CrawlSettings, problems: _Problems, where: str
) -> CrawlSettings:
    """Return ``base`` overridden by the crawl keys in ``raw``; record their problems."""
    return replace(base, **_section_values(raw, CrawlSettings, problems, where))


def _section_values(raw: Any, cls: type, problems: _Problems, where: str) -> dict[str, Any]:
    """Return the valid, converted values of ``raw`` for the dataclass ``cls``; record problems."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add(where, f"must be a mapping of keys, not {_type_name(raw)}")
        return {}
    hints = get_type_hints(cls)
    problems.check_keys(raw, hints, where)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in hints:
            continue
        converted = _convert(value, hints[key], key, problems, f"{where}: {key}")
        if converted is not _INVALID:
            values[key] = converted
    return values


_INVALID = object()


def _convert(value: Any, hint: Any, key: str, problems: _Problems, where: str) -> Any:
    """Return ``value`` converted to the field type ``hint``, or _INVALID (recorded)."""
    optional = get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)
    if optional:
        if value is None:
            return None
        hint = next(a for a in get_args(hint) if a is not type(None))
    if hint is bool:
        if isinstance(value, bool):
            return value
        problems.add(where, f"must be true or false, not {_describe(value)}")
        return _INVALID
    if hint is int or hint is float:
        # YAML reads `yes` as a bool, and bool is an int subclass: refuse it here.
        ok = isinstance(value, int) if hint is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if hint is int else "a number"
            problems.add(where, f"must be {kind}, not {_describe(value)}")
            return _INVALID
        if not math.isfinite(value):
            problems.add(where, f"must be a finite number, not {value}")
            return _INVALID
        limit = _LIMITS.get(key)
        if limit is not None:
            bound, inclusive = limit
            if value < bound or (value == bound and not inclusive):
                op = ">=" if inclusive else ">"
                problems.add(where, f"must be {op} {bound:g}, not {value}")
                return _INVALID
        return float(value) if hint is float else value
    if hint is str:
        if isinstance(value, str) and value.strip():
            return value.strip()
        problems.add(where, f"must be a non-empty string, not {_describe(value)}")
        return _INVALID
    if get_origin(hint) is tuple and key == "attachment_types":
        return _extensions(value, problems, where)
    if get_origin(hint) is tuple:  # allowed_hosts, attachment_hosts
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.add(where, f"must be a list of host names, not {_describe(value)}")
            return _INVALID
        hosts = tuple(dict.fromkeys(v.strip().lower() for v in value))
        bad = [h for h in hosts if not _HOST.match(h)]
        if bad:
            problems.add(
                where, f"not a bare host name (no scheme or path): {', '.join(map(repr, bad))}"
            )
            return _INVALID
        bad = [h for h in hosts if ":" in h and not 0 < int(h.rsplit(":", 1)[1]) < 65536]
        if bad:
            problems.add(where, f"port out of range 1-65535: {', '.join(map(repr, bad))}")
            return _INVALID
        return hosts
    raise AssertionError(f"no converter for {hint!r}")  # a new settings field type


def _extensions(value: Any, problems: _Problems, where: str) -> Any:
    """Return a list of file extensions (``pdf``, ``.DOCX`` …) as lower-case names
    without the dot, or _INVALID (recorded)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(where, f"must be a list of file extensions, not {_describe(value)}")
        return _INVALID
    names = tuple(dict.fromkeys(v.strip().lower().removeprefix(".") for v in value))
    bad = [n for n in names if not _EXTENSION.match(n)]
    if bad:
        problems.add(where, f"not a file extension (like pdf or docx): {', '.join(map(repr, bad))}")
        return _INVALID
    return names


def _source(
    raw: Any, index: int, crawl: CrawlSettings, tz: str, problems: _Problems
) -> SourceConfig | None:
    """Return one validated source, or None when it has problems (recorded)."""
    if not isinstance(raw, Mapping):
        problems.add(f"sources[{index}]", f"must be a mapping of keys, not {_type_name(raw)}")
        return None
    before = len(problems.items)
    name = raw.get("name")
    if isinstance(name, str) and _NAME.match(name.strip()):
        name = name.strip()
        where = f"source {name!r}"
    else:
        where = f"sources[{index}]"
        if "name" in raw:
            problems.add(
                f"{where}: name",
                f"must be a short name of letters, digits, '.', '_' or '-' "
                f"(starting with a letter or digit), not {_describe(name)}",
            )
    problems.check_keys(raw, SOURCE_KEYS, where)
    for key in SOURCE_REQUIRED_KEYS:
        if raw.get(key) is None:
            problems.add(f"{where}: {key}", "missing required key")

    start_urls = _start_urls(raw.get("start_urls"), problems, f"{where}: start_urls")
    detail_links = _selector(raw.get("detail_links"), problems, f"{where}: detail_links")
    list_links = _selector(raw.get("list_links"), problems, f"{where}: list_links")
    template = _template(raw.get("list_url_template"), start_urls, problems, where)
    schedule = _schedule(raw.get("schedule"), tz, problems, f"{where}: schedule")

    overrides = {k: v for k, v in raw.items() if k in CRAWL_KEYS}
    settings = _crawl_settings(overrides, crawl, problems, where)
    if "allowed_hosts" in overrides or crawl.allowed_hosts:
        for url in start_urls:
            if not is_allowed(url, settings.allowed_hosts):
                problems.add(
                    f"{where}: allowed_hosts",
                    f"does not include {host_of(url)!r}, the host of start URL {url}",
                )
    else:
        hosts = [host_of(u) for u in start_urls]
        if template is not None and start_urls:
            hosts.append(host_of(_template_url(template, start_urls[0], 1) or ""))
        settings = replace(settings, allowed_hosts=tuple(dict.fromkeys(h for h in hosts if h)))

    if len(problems.items) > before or not isinstance(name, str):
        return None
    assert detail_links is not None  # a required key, checked above
    return SourceConfig(
        name=name,
        start_urls=start_urls,
        detail_links=detail_links,
        list_links=list_links,
        list_url_template=template,
        schedule=schedule,
        settings=settings,
    )


def _start_urls(value: Any, problems: _Problems, where: str) -> tuple[str, ...]:
    """Return the normalised start URLs; record a wrong type or a bad URL."""
    if value is None:
        return ()
    if isinstance(value, str):
        problems.add(where, f'must be a list of URLs (write ["{value}"]), not a string')
        return ()
    if not isinstance(value, list) or not value:
        problems.add(where, f"must be a non-empty list of URLs, not {_describe(value)}")
        return ()
    urls: list[str] = []
    for item in value:
        url = _http_url(item)
        if url is None:
            problems.add(where, f"not an http(s) URL with a host: {_describe(item)}")
        else:
            urls.append(url)
    return tuple(dict.fromkeys(urls))


def _http_url(value: Any) -> str | None:
    """Return the normal form of an absolute http(s) URL, or None if ``value`` is not one."""
    if not isinstance(value, str):
        return None
    scheme = urlsplit(value.strip()).scheme.lower()
    return normalize_url(value) if scheme in ("http", "https") else None


def _selector(value: Any, problems: _Problems, where: str) -> str | None:
    """Return a CSS selector that compiles, or None (absent or recorded as a problem)."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(where, f"must be a CSS selector string, not {_describe(value)}")
        return None
    error = selector_error(value)
    if error is not None:
        problems.add(where, f"not a valid CSS selector {value!r}: {error}")
        return None
    return value.strip()


def _template(
    value: Any, start_urls: tuple[str, ...], problems: _Problems, where: str
) -> str | None:
    """Return a list URL template containing ``{n}``, or None (absent or recorded)."""
    if value is None:
        return None
    where = f"{where}: list_url_template"
    if not isinstance(value, str) or not value.strip():
        problems.add(where, f"must be a non-empty string, not {_describe(value)}")
        return None
    template = value.strip()
    if "{n}" not in template:
        problems.add(where, f"must contain {{n}}, the list page number: {template!r}")
        return None
    if start_urls:
        first = _template_url(template, start_urls[0], 1)
        if first is None:
            problems.add(where, f"does not resolve to an http(s) URL: {template!r}")
            return None
        if first == _template_url(template, start_urls[0], 2):
            # e.g. "list.html#p{n}": the fragment is dropped, every page is the same URL
            problems.add(where, "gives the same URL for every n (is {n} in a #fragment?)")
            return None
    return template


def _template_url(template: str, base: str, n: int) -> str | None:
    """Return list page ``n`` of ``template`` resolved against ``base``, or None."""
    url = normalize_url(template.replace("{n}", str(n)), base)
    return url if url is not None and _http_url(url) else None


def _schedule(value: Any, tz: str, problems: _Problems, where: str) -> str | None:
    """Return a 5-field cron expression APScheduler accepts, or None (recorded)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(where, f"must be a cron expression string, not {_describe(value)}")
        return None
    expr = " ".join(value.split())
    parts = expr.split()
    try:
        if len(parts) != 5:
            raise ValueError(f"a cron expression has 5 fields, not {len(parts)}")
        minute, hour, day, month, day_of_week = parts
        # cron's day-of-week numbers (0 and 7 Sunday) are translated, not handed to
        # APScheduler 3, which counts 0 as Monday.
        CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=apscheduler_day_of_week(day_of_week),
            timezone=tz,
        )
    except ValueError as exc:
        problems.add(where, f"not a valid 5-field cron expression {expr!r}: {exc}")
        return None
    return expr


def _zone_error(name: str) -> str | None:
    """Return why ``name`` is not an IANA time zone, or None if it is."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (use an IANA name such as 'Asia/Shanghai')"
    return None


def _describe(value: Any) -> str:
    """Return a short description of a wrong value for a message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{_type_name(value)} {text}"


def _type_name(value: Any) -> str:
    """Return the YAML-ish name of ``value``'s type."""
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (YAML keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    seen: dict[Hashable, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        if isinstance(key, Hashable):
            seen[key] = key_node.start_mark.line
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node))


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _read_yaml(path: Path) -> dict[str, Any]:
    """Return the YAML mapping at path; ConfigError (with the line) if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("config file not found", where=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", where=str(path)) from exc
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{line}invalid YAML: {problem}", where=str(path)) from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys, not {_type_name(document)}",
            where=str(path),
        )
    return document
