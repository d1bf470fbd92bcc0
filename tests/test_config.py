"""Tests for scraper.config: precedence, merging and every refusal."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import pytest

from scraper.config import (
    CRAWL_KEYS,
    SOURCE_OWN_KEYS,
    TOP_KEYS,
    Config,
    SourceConfig,
    database_url,
    default_config_path,
    load_config,
)
from scraper.errors import ConfigError
from scraper.settings import CrawlSettings, SchedulerSettings, WorkerSettings


def _write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestDatabaseUrl:
    def test_cli_beats_env_and_file(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\n")
        env = {"GOVARCHIVE_DATABASE_URL": "sqlite:///env.db"}
        assert database_url("sqlite:///cli.db", path, env) == "sqlite:///cli.db"

    def test_env_beats_file(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\n")
        env = {"GOVARCHIVE_DATABASE_URL": "postgresql+psycopg://u@h/db"}
        assert database_url(None, path, env) == "postgresql+psycopg://u@h/db"

    def test_file_beats_default(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\nsources: []\n")
        assert database_url(None, path, {}) == "sqlite:///file.db"

    def test_default_without_file(self) -> None:
        assert database_url(None, None, {}) == "sqlite:///archive.db"

    def test_default_when_file_has_no_database_key(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "crawl: {}\n")
        assert database_url(None, path, {}) == "sqlite:///archive.db"

    def test_empty_env_value_is_ignored(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\n")
        assert database_url(None, path, {"GOVARCHIVE_DATABASE_URL": " "}) == "sqlite:///file.db"

    def test_cli_value_does_not_read_a_broken_file(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: [unclosed\n")
        assert database_url("sqlite:///cli.db", path, {}) == "sqlite:///cli.db"

    def test_given_missing_file_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="config file not found"):
            database_url(None, tmp_path / "nope.yaml", {})

    def test_invalid_yaml_names_the_line(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "crawl:\n  timeout: 3\ndatabase: [unclosed\n")
        with pytest.raises(ConfigError, match=r"config\.yaml: line \d+: invalid YAML"):
            database_url(None, path, {})

    def test_non_string_database_is_refused(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: 5\n")
        with pytest.raises(ConfigError, match=r"config\.yaml: database: must be a non-empty"):
            database_url(None, path, {})


MINIMAL = """\
sources:
  - name: xc
    start_urls: ["https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/page_1.html"]
    detail_links: "ul.doc_list a"
    schedule: "0 6 * * *"
"""


def _load(tmp_path: Path, text: str) -> Config:
    return load_config(_write(tmp_path, text))


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return str(info.value)


def _source_yaml(**extra: str) -> str:
    """A one-source config with the given source keys added (values are YAML text)."""
    lines = [f"    {key}: {value}" for key, value in extra.items()]
    return MINIMAL + "".join(line + "\n" for line in lines)


class TestLoadConfig:
    def test_minimal_source_gets_the_defaults(self, tmp_path: Path) -> None:
        config = _load(tmp_path, MINIMAL)
        assert config.database is None
        assert config.crawl == CrawlSettings()
        assert config.scheduler == SchedulerSettings()
        (source,) = config.sources
        assert source == SourceConfig(
            name="xc",
            start_urls=("https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/page_1.html",),
            detail_links="ul.doc_list a",
            list_links=None,
            list_url_template=None,
            schedule="0 6 * * *",
            settings=replace(CrawlSettings(), allowed_hosts=("sjzy.xuancheng.gov.cn",)),
        )

    def test_merge_defaults_then_crawl_then_source(self, tmp_path: Path) -> None:
        text = """\
database: postgresql+psycopg://u@h/archive
crawl:
  timeout: 10
  retries: 5
  requests_per_second: 2
scheduler:
  timezone: UTC
  jitter_seconds: 0
sources:
  - name: a
    start_urls: ["http://a.gov.cn/list/", "http://b.gov.cn/list/"]
    detail_links: "a.d"
    list_links: "div.page a"
    schedule: "*/30 * * * *"
    retries: 0
    incremental: true
    revisit_after_hours: 12
  - name: b
    start_urls: ["http://c.gov.cn/x/index.html"]
    detail_links: "a.d"
    list_url_template: "https://cdn.c.gov.cn/x/index_{n}.html"
    schedule: "0 6 * * mon-fri"
"""
        config = _load(tmp_path, text)
        assert config.database == "postgresql+psycopg://u@h/archive"
        assert config.crawl.timeout == 10.0 and isinstance(config.crawl.timeout, float)
        assert config.crawl.requests_per_second == 2.0
        assert config.crawl.max_list_pages == 100  # untouched default
        assert config.scheduler == SchedulerSettings(timezone="UTC", jitter_seconds=0)
        a, b = config.sources
        assert a.settings.retries == 0  # the source wins
        assert a.settings.timeout == 10.0  # crawl: wins over the default
        assert a.settings.incremental is True
        assert a.settings.revisit_after_hours == 12.0
        assert a.settings.allowed_hosts == ("a.gov.cn", "b.gov.cn")
        assert a.list_links == "div.page a"
        assert b.settings.retries == 5
        assert b.settings.incremental is False
        # the template's host is allowed by default too
        assert b.settings.allowed_hosts == ("c.gov.cn", "cdn.c.gov.cn")
        assert config.source_names == ("a", "b")
        assert config.source("b") is b

    def test_explicit_allowed_hosts(self, tmp_path: Path) -> None:
        config = _load(
            tmp_path,
            _source_yaml(allowed_hosts='["SJZY.xuancheng.gov.cn", "www.xuancheng.gov.cn"]'),
        )
        assert config.sources[0].settings.allowed_hosts == (
            "sjzy.xuancheng.gov.cn",
            "www.xuancheng.gov.cn",
        )

    def test_attachment_settings(self, tmp_path: Path) -> None:
        config = _load(
            tmp_path,
            _source_yaml(
                attachment_types='[".PDF", "docx", "pdf", "ofd"]',
                attachment_hosts='["FILES.xuancheng.gov.cn"]',
                max_attachments_per_page="0",
            ),
        )
        settings = config.sources[0].settings
        assert settings.attachments is True
        assert settings.attachment_types == ("pdf", "docx", "ofd")
        assert settings.attachment_hosts == ("files.xuancheng.gov.cn",)
        assert settings.max_attachments_per_page == 0

    def test_start_urls_are_normalised_and_deduplicated(self, tmp_path: Path) -> None:
        text = MINIMAL.replace(
            '["https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/page_1.html"]',
            '["HTTPS://SJZY.xuancheng.gov.cn/a/#top", "https://sjzy.xuancheng.gov.cn/a/"]',
        )
        assert _load(tmp_path, text).sources[0].start_urls == ("https://sjzy.xuancheng.gov.cn/a/",)

    def test_null_optional_keys_mean_absent(self, tmp_path: Path) -> None:
        config = _load(
            tmp_path, _source_yaml(list_links="null", list_url_template="", revisit_after_hours="~")
        )
        source = config.sources[0]
        assert source.list_links is None and source.list_url_template is None
        assert source.settings.revisit_after_hours is None

    def test_unknown_source_name_lists_known_names(self, tmp_path: Path) -> None:
        config = _load(tmp_path, MINIMAL)
        with pytest.raises(
            ConfigError,
            match=r"no source named 'xcc' \(did you mean 'xc'\?\); "
            r"known sources: xc",
        ):
            config.source("xcc")

    def test_every_problem_is_reported_at_once(self, tmp_path: Path) -> None:
        message = _error(tmp_path, _source_yaml(timeout="0", retries="-1", detail_link='"a"'))
        assert message.count("config.yaml: source 'xc': ") == 3
        assert "2 more problem(s)" in message


class TestShippedConfig:
    def test_loads_and_validates(self) -> None:
        config = load_config(Path(__file__).resolve().parents[1] / "config.yaml")
        assert config.database == "sqlite:///archive.db"
        assert config.scheduler.timezone == "Asia/Shanghai"
        assert config.crawl.requests_per_second == 1.0
        assert config.crawl.per_host_concurrency == 1
        names = config.source_names
        assert len(names) == len(set(names)) >= 5
        hosts = {h for s in config.sources for h in s.settings.allowed_hosts}
        assert {"sjzy.xuancheng.gov.cn", "www.xuancheng.gov.cn"} <= hosts
        for source in config.sources:
            assert source.settings.requests_per_second == 1.0
            assert source.settings.allowed_hosts

    def test_every_crawl_scheduler_and_workers_key_is_documented(self) -> None:
        root = Path(__file__).resolve().parents[1]
        shipped = (root / "config.yaml").read_text(encoding="utf-8")
        docs = (root / "docs" / "config.md").read_text(encoding="utf-8")
        scheduler_keys = [f.name for f in fields(SchedulerSettings)]
        worker_keys = [f.name for f in fields(WorkerSettings)]
        for key in (*CRAWL_KEYS, *scheduler_keys, *worker_keys, *SOURCE_OWN_KEYS, *TOP_KEYS):
            assert f"{key}:" in shipped, key
            assert f"`{key}`" in docs, key


# (YAML text of the source's extra keys or a whole file, expected message)
SOURCE_ERRORS = [
    pytest.param(
        {"detail_link": '"a"'},
        "config.yaml: source 'xc': detail_link: unknown key (did you mean 'detail_links'?)",
        id="unknown-key-suggestion",
    ),
    pytest.param(
        {"colour": "red"},
        "config.yaml: source 'xc': colour: unknown key (known keys: name, start_urls",
        id="unknown-key-no-suggestion",
    ),
    pytest.param(
        {"max_list_page": "3"},
        "source 'xc': max_list_page: unknown key (did you mean 'max_list_pages'?)",
        id="unknown-crawl-key-in-source",
    ),
    pytest.param(
        {"retries": "yes"},
        "source 'xc': retries: must be a whole number, not boolean True",
        id="bool-is-not-int",
    ),
    pytest.param(
        {"retries": "2.5"},
        "source 'xc': retries: must be a whole number, not number 2.5",
        id="float-not-int",
    ),
    pytest.param(
        {"timeout": '"30"'},
        "source 'xc': timeout: must be a number, not string '30'",
        id="string-not-number",
    ),
    pytest.param({"timeout": "0"}, "source 'xc': timeout: must be > 0, not 0", id="zero-timeout"),
    pytest.param(
        {"requests_per_second": "-1"},
        "source 'xc': requests_per_second: must be > 0, not -1",
        id="negative-rate",
    ),
    pytest.param(
        {"max_list_pages": "0"}, "source 'xc': max_list_pages: must be >= 1, not 0", id="zero-pages"
    ),
    pytest.param(
        {"timeout": ".inf"}, "source 'xc': timeout: must be a finite number, not inf", id="infinite"
    ),
    pytest.param(
        {"max_crawl_delay": "0"},
        "source 'xc': max_crawl_delay: must be > 0, not 0",
        id="zero-crawl-delay-cap",
    ),
    pytest.param(
        {"max_crawl_delay": ".inf"},
        "source 'xc': max_crawl_delay: must be a finite number, not inf",
        id="unbounded-crawl-delay-cap",
    ),
    pytest.param(
        {"incremental": '"true"'},
        "source 'xc': incremental: must be true or false, not string 'true'",
        id="string-not-bool",
    ),
    pytest.param(
        {"allowed_hosts": '"sjzy.xuancheng.gov.cn"'},
        "source 'xc': allowed_hosts: must be a list of host names, not string",
        id="hosts-not-list",
    ),
    pytest.param(
        {"allowed_hosts": '["https://sjzy.xuancheng.gov.cn/"]'},
        "source 'xc': allowed_hosts: not a bare host name (no scheme or path): "
        "'https://sjzy.xuancheng.gov.cn/'",
        id="host-with-scheme",
    ),
    pytest.param(
        {"allowed_hosts": '["sjzy.xuancheng.gov.cn:0", "sjzy.xuancheng.gov.cn:70000"]'},
        "source 'xc': allowed_hosts: port out of range 1-65535: 'sjzy.xuancheng.gov.cn:0', "
        "'sjzy.xuancheng.gov.cn:70000'",
        id="host-port-out-of-range",
    ),
    pytest.param(
        {"allowed_hosts": '["sjzy.xuancheng.gov.cn:8443"]'},
        "source 'xc': allowed_hosts: does not include 'sjzy.xuancheng.gov.cn', the host "
        "of start URL",
        id="host-port-is-that-port-only",
    ),
    pytest.param(
        {"allowed_hosts": '["www.xuancheng.gov.cn"]'},
        "source 'xc': allowed_hosts: does not include 'sjzy.xuancheng.gov.cn', the host "
        "of start URL",
        id="start-url-not-allowed",
    ),
    pytest.param(
        {"list_links": '"div.page >"'},
        "source 'xc': list_links: not a valid CSS selector 'div.page >': ",
        id="bad-list-selector",
    ),
    pytest.param(
        {"list_links": "[1]"},
        "source 'xc': list_links: must be a CSS selector string, not list [1]",
        id="selector-not-string",
    ),
    pytest.param(
        {"list_url_template": '"page_2.html"'},
        "source 'xc': list_url_template: must contain {n}, the list page number",
        id="template-without-n",
    ),
    pytest.param(
        {"list_url_template": '"mailto:a@b.cn?p={n}"'},
        "source 'xc': list_url_template: does not resolve to an http(s) URL",
        id="template-not-http",
    ),
    pytest.param(
        {"list_url_template": '"page.html#p{n}"'},
        "source 'xc': list_url_template: gives the same URL for every n (is {n} in a #fragment?)",
        id="template-n-in-fragment",
    ),
    pytest.param(
        {"attachment_types": '["pdf", "tar.gz", "*.doc"]'},
        "source 'xc': attachment_types: not a file extension (like pdf or docx): 'tar.gz', '*.doc'",
        id="attachment-type-not-an-extension",
    ),
    pytest.param(
        {"attachment_types": '"pdf"'},
        "source 'xc': attachment_types: must be a list of file extensions, not string",
        id="attachment-types-not-a-list",
    ),
    pytest.param(
        {"attachment_hosts": '["https://cdn.example.cn/"]'},
        "source 'xc': attachment_hosts: not a bare host name (no scheme or path)",
        id="attachment-host-with-scheme",
    ),
    pytest.param(
        {"max_attachment_bytes": "0"},
        "source 'xc': max_attachment_bytes: must be >= 1, not 0",
        id="attachment-cap-zero",
    ),
    pytest.param(
        {"max_concurrency": "null"},
        "source 'xc': max_concurrency: must be a whole number, not null",
        id="null-required-number",
    ),
]


@pytest.mark.parametrize(("extra", "expected"), SOURCE_ERRORS)
def test_source_errors(tmp_path: Path, extra: dict[str, str], expected: str) -> None:
    assert expected in _error(tmp_path, _source_yaml(**extra))


WHOLE_FILE_ERRORS = [
    pytest.param(
        MINIMAL.replace('detail_links: "ul.doc_list a"', 'detail_links: "ul.doc_list a["'),
        "config.yaml: source 'xc': detail_links: not a valid CSS selector "
        "'ul.doc_list a[': Can't parse CSS selector",
        id="bad-selector",
    ),
    pytest.param(
        MINIMAL.replace('"0 6 * * *"', '"0 25 * * *"'),
        "config.yaml: source 'xc': schedule: not a valid 5-field cron expression "
        "'0 25 * * *': Error validating expression '25'",
        id="bad-cron-value",
    ),
    pytest.param(
        MINIMAL.replace('"0 6 * * *"', '"0 6 * *"'),
        "source 'xc': schedule: not a valid 5-field cron expression '0 6 * *': "
        "a cron expression has 5 fields, not 4",
        id="bad-cron-fields",
    ),
    pytest.param(
        MINIMAL.replace('"0 6 * * *"', '"0 6 * * 1-8"'),
        "source 'xc': schedule: not a valid 5-field cron expression '0 6 * * 1-8': "
        "'8' is not a day of week (0-7 or sun-sat) in '1-8'",
        id="bad-weekday-number",
    ),
    pytest.param(
        MINIMAL.replace('"0 6 * * *"', "6"),
        "source 'xc': schedule: must be a cron expression string, not integer 6",
        id="cron-not-string",
    ),
    pytest.param(
        MINIMAL.replace('    detail_links: "ul.doc_list a"\n', ""),
        "config.yaml: source 'xc': detail_links: missing required key",
        id="missing-key",
    ),
    pytest.param(
        MINIMAL.replace("  - name: xc\n", "  - start_urls: []\n").replace(
            '    start_urls: ["https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/'
            'page_1.html"]\n',
            "",
        ),
        "config.yaml: sources[0]: name: missing required key",
        id="missing-name",
    ),
    pytest.param(
        MINIMAL.replace("name: xc", "name: 'x c/1'"),
        "config.yaml: sources[0]: name: must be a short name of letters, digits",
        id="bad-name",
    ),
    pytest.param(
        MINIMAL.replace('["https://sjzy', '["ftp://sjzy'),
        "source 'xc': start_urls: not an http(s) URL with a host: string 'ftp://sjzy",
        id="bad-url-scheme",
    ),
    pytest.param(
        MINIMAL.replace(
            '["https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/page_1.html"]',
            '["/OpennessContent/showList/2/17/page_1.html"]',
        ),
        "source 'xc': start_urls: not an http(s) URL with a host: string '/Openness",
        id="relative-url",
    ),
    pytest.param(
        MINIMAL.replace(
            '["https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/page_1.html"]',
            '"https://sjzy.xuancheng.gov.cn/"',
        ),
        "source 'xc': start_urls: must be a list of URLs (write "
        '["https://sjzy.xuancheng.gov.cn/"]), not a string',
        id="url-not-list",
    ),
    pytest.param(
        MINIMAL.replace(
            '["https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/page_1.html"]', "[]"
        ),
        "source 'xc': start_urls: must be a non-empty list of URLs, not list []",
        id="empty-start-urls",
    ),
    pytest.param(
        MINIMAL + MINIMAL.removeprefix("sources:\n"),
        "config.yaml: source 'xc': name: duplicate source name (sources[0] and "
        "sources[1]); names must be unique",
        id="duplicate-name",
    ),
    pytest.param(
        "sources: []\n",
        "config.yaml: sources: no sources configured: add at least one source",
        id="empty-sources",
    ),
    pytest.param(
        "crawl: {timeout: 5}\n", "config.yaml: sources: no sources configured", id="no-sources-key"
    ),
    pytest.param(
        "sources: {name: xc}\n",
        "config.yaml: sources: must be a list of sources, not mapping",
        id="sources-map",
    ),
    pytest.param(
        "sources:\n  - just-a-name\n",
        "config.yaml: sources[0]: must be a mapping of keys, not string",
        id="source-not-mapping",
    ),
    pytest.param(
        "source:\n" + MINIMAL.removeprefix("sources:\n"),
        "config.yaml: source: unknown key (did you mean 'sources'?)",
        id="unknown-top",
    ),
    pytest.param(
        "crawl:\n  max_concurency: 4\n" + MINIMAL,
        "config.yaml: crawl: max_concurency: unknown key (did you mean 'max_concurrency'?)",
        id="unknown-crawl-key",
    ),
    pytest.param(
        "crawl: [1, 2]\n" + MINIMAL,
        "config.yaml: crawl: must be a mapping of keys, not list",
        id="crawl-not-mapping",
    ),
    pytest.param(
        "scheduler:\n  timezone: Asia/Shangai\n" + MINIMAL,
        "config.yaml: scheduler: timezone: unknown time zone 'Asia/Shangai'",
        id="bad-timezone",
    ),
    pytest.param(
        "scheduler:\n  jitter_seconds: -5\n" + MINIMAL,
        "config.yaml: scheduler: jitter_seconds: must be >= 0, not -5",
        id="negative-jitter",
    ),
    pytest.param(
        "database: ''\n" + MINIMAL,
        "config.yaml: database: must be a non-empty string",
        id="empty-database",
    ),
    pytest.param(
        "- a\n- b\n",
        "config.yaml: the top level must be a mapping of keys, not list",
        id="top-level-list",
    ),
    pytest.param("", "config.yaml: sources: no sources configured", id="empty-file"),
]


@pytest.mark.parametrize(("text", "expected"), WHOLE_FILE_ERRORS)
def test_file_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _error(tmp_path, text)


class TestFileErrors:
    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as info:
            load_config(tmp_path / "missing.yaml")
        assert str(info.value) == f"{tmp_path / 'missing.yaml'}: config file not found"

    def test_yaml_syntax_error_names_the_line(self, tmp_path: Path) -> None:
        text = MINIMAL + "    list_links: [div.page a\n    schedule2: x\n"
        message = _error(tmp_path, text)
        assert "config.yaml: line 7: invalid YAML: expected ',' or ']'" in message, message

    def test_bad_indentation_names_the_line(self, tmp_path: Path) -> None:
        text = "crawl:\n  timeout: 5\n retries: 2\n" + MINIMAL
        assert "config.yaml: line 3: invalid YAML" in _error(tmp_path, text)

    def test_duplicate_yaml_key_names_both_lines(self, tmp_path: Path) -> None:
        text = MINIMAL + '    detail_links: "ol a"\n'
        message = _error(tmp_path, text)
        assert (
            "config.yaml: line 6: invalid YAML: duplicate key 'detail_links' (first on line 4)"
            in message
        )

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "config.yaml"
        path.write_bytes("sources: []  # 宣城\n".encode("gbk"))
        with pytest.raises(ConfigError, match="cannot read config file"):
            load_config(path)

    def test_error_carries_where(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, _source_yaml(timeout="0"))
        assert info.value.where == f"{tmp_path / 'config.yaml'}: source 'xc': timeout"


class TestDefaultConfigPath:
    def test_cli_value_wins(self, tmp_path: Path) -> None:
        assert default_config_path(tmp_path / "x.yaml") == tmp_path / "x.yaml"

    def test_cwd_config_or_none(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        assert default_config_path(None) is None
        (tmp_path / "config.yaml").write_text(MINIMAL, encoding="utf-8")
        assert default_config_path(None) == Path("config.yaml")
