"""scraper.fetching.robots: RFC 9309 matching, Crawl-delay, and how odd answers are read."""

from __future__ import annotations

import pytest

from scraper.fetching.robots import (
    MAX_ROBOTS_BYTES,
    RobotsRules,
    parse_robots,
    product_token,
    robots_url,
    rules_from_response,
)

UA = "govarchive/0.1.0 (+https://pypi.org/project/govarchive/)"
SITE = "https://www.xuancheng.gov.cn"


def rules(text: str, ua: str = UA) -> RobotsRules:
    return parse_robots(text.encode(), ua)


def test_product_token() -> None:
    assert product_token(UA) == "govarchive"
    assert product_token("Mozilla/5.0 (X11)") == "mozilla"
    assert product_token("my-bot") == "my-bot"


def test_robots_url() -> None:
    assert robots_url("HTTPS://WWW.Xuancheng.gov.cn:443/a/b.html?x=1#f") == f"{SITE}/robots.txt"
    assert robots_url("http://127.0.0.1:8123/x") == "http://127.0.0.1:8123/robots.txt"
    with pytest.raises(ValueError, match="javascript"):
        robots_url("javascript:void(0)")


def test_star_group_applies_when_none_names_us() -> None:
    r = rules("User-agent: *\nDisallow: /admin/\nDisallow: /search\n")
    assert not r.allowed(f"{SITE}/admin/login.jsp")
    assert not r.allowed(f"{SITE}/search?q=1")
    assert r.allowed(f"{SITE}/OpennessContent/show/1.html")
    assert r.allowed(f"{SITE}/")


def test_our_group_replaces_star_group() -> None:
    text = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: Baiduspider\nDisallow: /private/\n\n"
        "User-agent: GovArchive\nDisallow: /private/\n"
    )
    r = rules(text)
    assert r.allowed(f"{SITE}/OpennessContent/show/1.html")
    assert not r.allowed(f"{SITE}/private/x")
    # another crawler gets the star group
    assert not rules(text, "SomeBot/1.0").allowed(f"{SITE}/a")


def test_group_with_several_agents_and_merged_groups() -> None:
    text = (
        "User-agent: baiduspider\nUser-agent: govarchive\nDisallow: /a/\n\n"
        "User-agent: govarchive\nDisallow: /b/\n"
    )
    r = rules(text)
    assert not r.allowed(f"{SITE}/a/1")
    assert not r.allowed(f"{SITE}/b/1")
    assert r.allowed(f"{SITE}/c/1")


def test_longest_match_wins_and_allow_wins_ties() -> None:
    r = rules(
        "User-agent: *\nDisallow: /OpennessContent/\nAllow: /OpennessContent/show/\n"
        "Disallow: /x\nAllow: /x\n"
    )
    assert r.allowed(f"{SITE}/OpennessContent/show/2149331.html")
    assert not r.allowed(f"{SITE}/OpennessContent/showList/3/1/page_1.html")
    assert r.allowed(f"{SITE}/x")
    # order in the file does not matter
    r2 = rules("User-agent: *\nAllow: /OpennessContent/show/\nDisallow: /OpennessContent/\n")
    assert r2.allowed(f"{SITE}/OpennessContent/show/1.html")


def test_wildcards_and_end_anchor() -> None:
    r = rules("User-agent: *\nDisallow: /*.pdf$\nDisallow: /*&action=list\nDisallow: /tmp*/\n")
    assert not r.allowed(f"{SITE}/files/a.pdf")
    assert r.allowed(f"{SITE}/files/a.pdf?download=1")
    assert r.allowed(f"{SITE}/files/a.pdfx")
    assert not r.allowed(f"{SITE}/public/column/6?type=4&action=list")
    assert r.allowed(f"{SITE}/public/column/6?pageIndex=2")
    assert not r.allowed(f"{SITE}/tmp123/a")


def test_empty_disallow_allows_everything() -> None:
    r = rules("User-agent: *\nDisallow:\n")
    assert r.rules == ()
    assert r.allowed(f"{SITE}/anything")


def test_disallow_all() -> None:
    r = rules("User-agent: *\nDisallow: /\n")
    assert not r.allowed(f"{SITE}/")
    assert not r.allowed(f"{SITE}/a.html")
    assert r.allowed(f"{SITE}/robots.txt")


def test_crawl_delay() -> None:
    assert rules("User-agent: *\nCrawl-delay: 5\nDisallow: /a\n").crawl_delay == 5.0
    assert rules("User-agent: *\nCrawl-delay: 0.5\n").crawl_delay == 0.5
    assert rules("User-agent: *\nCrawl-delay: soon\n").crawl_delay is None
    assert rules("User-agent: *\nCrawl-delay: -1\n").crawl_delay is None
    # only the group that applies counts
    text = "User-agent: *\nCrawl-delay: 30\n\nUser-agent: govarchive\nCrawl-delay: 2\n"
    assert rules(text).crawl_delay == 2.0
    assert rules(text, "OtherBot").crawl_delay == 30.0
    assert rules("User-agent: *\nDisallow: /\n").crawl_delay is None


def test_comments_case_blank_lines_and_junk() -> None:
    text = (
        "\ufeff# 宣城市人民政府网站\r\n"
        "USER-AGENT : *   # everyone\r\n"
        "\r\n"
        "DisAllow: /admin/  # 后台\r\n"
        "this line is junk\r\n"
        "Sitemap: https://www.xuancheng.gov.cn/sitemap.xml\r\n"
    )
    r = rules(text)
    assert not r.allowed(f"{SITE}/admin/x")
    assert r.allowed(f"{SITE}/admin")


def test_rules_before_any_user_agent_are_ignored() -> None:
    assert rules("Disallow: /\nUser-agent: *\nDisallow: /a\n").allowed(f"{SITE}/b")


def test_non_ascii_and_escaped_paths_compare_equal() -> None:
    r = rules("User-agent: *\nDisallow: /公开/\nDisallow: /a%2fb\n")
    assert not r.allowed(f"{SITE}/公开/1.html")
    assert not r.allowed(f"{SITE}/%E5%85%AC%E5%BC%80/1.html")
    assert not r.allowed(f"{SITE}/%e5%85%ac%e5%bc%80/1.html")
    assert not r.allowed(f"{SITE}/a%2Fb")


def test_gbk_robots_txt_is_read() -> None:
    data = "# 本站禁止抓取后台\nUser-agent: *\nDisallow: /admin/\n".encode("gbk")
    assert not parse_robots(data, UA).allowed(f"{SITE}/admin/1")


def test_only_the_first_500_kib_is_parsed() -> None:
    padding = "# " + "x" * 1000 + "\n"
    text = "User-agent: *\n" + padding * (MAX_ROBOTS_BYTES // len(padding) + 1) + "Disallow: /\n"
    assert rules(text).allowed(f"{SITE}/a")


def test_a_cut_file_keeps_its_first_500_kib_of_whole_lines() -> None:
    head = b"User-agent: *\nDisallow: /\n"
    filler = MAX_ROBOTS_BYTES - len(head) - len(b"Allow: /pub")
    data = head + b"#" + b"x" * (filler - 2) + b"\n" + b"Allow: /publications\n"
    kept = data[:MAX_ROBOTS_BYTES]
    r = rules_from_response(200, kept, UA, truncated=True)
    assert not r.allowed(f"{SITE}/pubs/1")  # "Allow: /pub" was half a line: dropped
    assert r.note == f"robots.txt 200 (only its first {MAX_ROBOTS_BYTES} bytes read)"
    # handed the whole file, it cuts it the same way
    assert rules_from_response(200, data, UA).note == r.note
    assert not rules_from_response(200, data, UA).allowed(f"{SITE}/pubs/1")


def test_a_multibyte_character_cut_in_half_does_not_change_the_decoding() -> None:
    head = "User-agent: *\n# 说明\nDisallow: /私有/\n#\n".encode()
    body = head + ("# " + "中" * 300 + "\n").encode() * 2000
    cut = body[:MAX_ROBOTS_BYTES]
    with pytest.raises(UnicodeDecodeError):  # really cut inside a character
        cut.decode("utf-8")
    r = rules_from_response(200, cut, UA, truncated=True)
    assert not r.allowed(f"{SITE}/私有/a")


def test_disallow_all_keeps_robots_txt_itself() -> None:
    r = RobotsRules.disallow_all("why")
    assert not r.allowed(f"{SITE}/")
    assert not r.allowed(f"{SITE}/a?b")
    assert r.allowed(f"{SITE}/robots.txt")
    assert r.note == "why"


def test_crawl_delay_cap() -> None:
    r = rules("User-agent: *\nCrawl-delay: 100000\n")
    assert r.crawl_delay == 100000.0
    capped = r.capped(60.0)
    assert capped.crawl_delay == 60.0
    assert capped.note == "Crawl-delay 100000 s capped at max_crawl_delay 60 s"
    assert r.capped(100000.0) is r
    small = rules("User-agent: *\nCrawl-delay: 5\n")
    assert small.capped(60.0) is small
    assert rules("User-agent: *\n").capped(60.0).crawl_delay is None


def test_an_infinite_crawl_delay_is_capped_not_ignored() -> None:
    r = rules("User-agent: *\nCrawl-delay: inf\n")
    assert r.crawl_delay == float("inf")
    assert r.capped(60.0).crawl_delay == 60.0
    assert rules("User-agent: *\nCrawl-delay: nan\n").crawl_delay is None


def test_allowed_accepts_a_path() -> None:
    r = rules("User-agent: *\nDisallow: /a\n")
    assert not r.allowed("/a/b?c=1")
    assert r.allowed("/b")


@pytest.mark.parametrize(
    ("status", "allowed", "note"),
    [
        (404, True, "robots.txt 404: no robots.txt, everything allowed"),
        (403, True, "robots.txt 403: no robots.txt, everything allowed"),
        (412, True, "robots.txt 412: no robots.txt, everything allowed"),
        (500, True, "robots.txt 500: server error, everything allowed"),
        (503, True, "robots.txt 503: server error, everything allowed"),
        (200, False, "robots.txt 200"),
    ],
)
def test_rules_from_response(status: int, allowed: bool, note: str) -> None:
    r = rules_from_response(status, b"User-agent: *\nDisallow: /\n", UA)
    assert r.allowed(f"{SITE}/a") is allowed
    assert r.note == note


def test_unreachable_robots_allows_all() -> None:
    r = rules_from_response(None, None, UA, error="connection refused")
    assert r.allowed(f"{SITE}/a")
    assert r.note == "robots.txt unreachable (connection refused): everything allowed"
