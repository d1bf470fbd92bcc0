"""Declared charsets that lie: the page is read as what its bytes are, with a warning.

GBK bytes declared UTF-8 (in the header or a <meta>) were archived as mojibake with the
metadata lost; declared ISO-8859-1 (a server default), garbled with no warning at all.
"""

from __future__ import annotations

import pytest

from scraper.parse import parse_page

PAGE = (
    "<html><head>{meta}<title>关于促进房地产市场平稳健康发展的通知</title></head><body>"
    "<table><tr><th>索引号</th><td>50000007/2022-1663341</td><th>发布机构</th><td>安化县</td></tr>"
    "<tr><th>文号</th><td>安政办发〔2022〕20号</td><th>发文日期</th><td>2022-10-12</td></tr></table>"
    "<div id='zoom'><p>各乡镇人民政府，县人民政府有关局办：现将有关措施印发给你们，"
    "请认真组织实施。</p></div>"
    "</body></html>"
)


@pytest.mark.parametrize(
    ("meta", "content_type", "declared"),
    [
        ('<meta charset="utf-8">', None, "utf-8 (meta)"),
        ("", "text/html; charset=UTF-8", "utf-8 (http)"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=utf-8">', None, "utf-8"),
        ("", "text/html; charset=ISO-8859-1", "cp1252 (http)"),
        ('<meta charset="iso-8859-1">', None, "cp1252 (meta)"),
    ],
)
def test_gbk_bytes_under_a_false_declaration(
    meta: str, content_type: str | None, declared: str
) -> None:
    data = PAGE.format(meta=meta).encode("gbk")
    headers = {"content-type": content_type} if content_type else None
    record = parse_page(data, headers=headers)
    assert record.encoding == "gb18030"
    assert record.metadata.index_no == "50000007/2022-1663341"
    assert record.metadata.doc_number == "安政办发〔2022〕20号"
    assert record.body_text.startswith("各乡镇人民政府")
    assert any(declared in w and "read as gb18030" in w for w in record.warnings), record.warnings


def test_utf8_bytes_declared_latin1_are_read_as_utf8() -> None:
    data = PAGE.format(meta="").encode()
    record = parse_page(data, headers={"content-type": "text/html; charset=iso-8859-1"})
    assert record.encoding == "utf-8"
    assert record.metadata.publisher == "安化县"
    assert any("implausible" in w for w in record.warnings)


def test_a_true_latin1_declaration_stands() -> None:
    data = "<html><body><div id='zoom'><p>Café, naïve, résumé.</p></div></body></html>".encode(
        "latin-1"
    )
    record = parse_page(data, headers={"content-type": "text/html; charset=iso-8859-1"})
    assert record.encoding == "cp1252"
    assert "Café" in record.body_text
