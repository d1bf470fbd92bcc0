"""What every table and column of storage.models means: the text of docs/schema.md's tables.

One place for the descriptions that docs/schema.md shows and ``govarchive datasette-metadata``
hands to Datasette. tests/storage/test_descriptions.py asserts that every column of every
model is here and that docs/schema.md's table rows say exactly this, so the two cannot drift:
a column added to a model is described here and in the doc's table, in the same words.
The text is Markdown as the doc writes it (backticks, ``\\|``); ``plain`` strips that.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class ColumnDoc(NamedTuple):
    """A column's row in docs/schema.md: its type as the doc states it, and its meaning."""

    type: str
    meaning: str


class TableDoc(NamedTuple):
    """A table's heading in docs/schema.md (after the dash) and its columns' rows."""

    description: str
    columns: dict[str, ColumnDoc]


def plain(markdown: str) -> str:
    """Return a description without the doc's Markdown: backticks and ``**`` dropped,
    ``\\|`` unescaped. Pure."""
    return re.sub(r"`|\*\*", "", markdown).replace("\\|", "|")


#: table name → its description and every column's, in the model's column order.
TABLE_DOCS: dict[str, TableDoc] = {
    "blob_dicts": TableDoc(
        "compression dictionaries",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "hash": ColumnDoc(
                "text (64), unique",
                "SHA-256 of the dictionary content",
            ),
            "size": ColumnDoc(
                "integer",
                "dictionary length in bytes (at most 256 KiB)",
            ),
            "data": ColumnDoc(
                "bytes",
                "the dictionary content, itself one zstd frame",
            ),
            "created_at": ColumnDoc(
                "timestamp",
                "when it was made",
            ),
        },
    ),
    "blobs": TableDoc(
        "raw response bodies, stored once per distinct SHA-256",
        {
            "hash": ColumnDoc(
                "text (64), primary key",
                "SHA-256 of the original bytes",
            ),
            "size": ColumnDoc(
                "integer",
                "original length in bytes",
            ),
            "codec": ColumnDoc(
                "text",
                "`zstd`",
            ),
            "dict_id": ColumnDoc(
                "integer, null → `blob_dicts.id`",
                "the dictionary the frame was compressed with",
            ),
            "data": ColumnDoc(
                "bytes",
                "one zstd frame",
            ),
        },
    ),
    "sources": TableDoc(
        "one row per configured source",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "name": ColumnDoc(
                "text, unique",
                "the source's name in config.yaml",
            ),
            "config_json": ColumnDoc(
                "JSON, null",
                "the source's configuration as of its last crawl",
            ),
            "created_at": ColumnDoc(
                "timestamp",
                "when the source was first registered",
            ),
            "blob_dict_id": ColumnDoc(
                "integer, null → `blob_dicts.id`",
                "the compression dictionary for this source's raw bodies (see `blobs`)",
            ),
        },
    ),
    "crawl_runs": TableDoc(
        "one crawl of one source",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "source_id": ColumnDoc(
                "integer → `sources.id`",
                "the source crawled",
            ),
            "started_at": ColumnDoc(
                "timestamp",
                "when the run started",
            ),
            "finished_at": ColumnDoc(
                "timestamp, null",
                (
                    "when it ended; null while `running`; for an `interrupted` run, its last "
                    "fetch's time"
                ),
            ),
            "status": ColumnDoc(
                "text",
                (
                    "`running`, `completed`, `failed` (nothing answered), `blocked` (nothing "
                    "answered, block pages seen), `interrupted` (stopped, or found still "
                    "`running` after its process died)"
                ),
            ),
            "pages_seen": ColumnDoc(
                "integer",
                "distinct URLs fetched or attempted, list pages excluded",
            ),
            "new_pages": ColumnDoc(
                "integer",
                "fetches that wrote a page's version 1",
            ),
            "new_versions": ColumnDoc(
                "integer",
                "fetches that wrote a version (including the `new_pages`)",
            ),
            "unchanged": ColumnDoc(
                "integer",
                "fetches whose content equalled the newest version",
            ),
            "not_modified": ColumnDoc(
                "integer",
                "304 answers to conditional requests",
            ),
            "gone": ColumnDoc(
                "integer",
                "404 / 410 / soft-404 answers",
            ),
            "errors": ColumnDoc(
                "integer",
                "outcomes `error`, `blocked`, `too_large`, `suspect`",
            ),
            "skipped": ColumnDoc(
                "integer",
                (
                    "outcomes `skipped_robots`, `offsite`, `skipped_host_paused` (no request "
                    "made or not followed)"
                ),
            ),
        },
    ),
    "pages": TableDoc(
        "one row per canonical detail-page URL",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "source_id": ColumnDoc(
                "integer → `sources.id`",
                "the source that first archived the page",
            ),
            "url": ColumnDoc(
                "text, unique",
                (
                    "the URL requested, normalised: the address the source's list pages link to "
                    "(since revision 0003 a page that redirects stays this page; where the "
                    "answer came from is `fetches.final_url`)"
                ),
            ),
            "first_seen_at": ColumnDoc(
                "timestamp",
                "request time of the first successful fetch (its version 1)",
            ),
            "last_fetched_at": ColumnDoc(
                "timestamp",
                (
                    "request time of the last fetch that confirmed the content (outcomes "
                    "`new_version`, `unchanged`, `not_modified`); failed and `suspect` fetches "
                    "do not move it"
                ),
            ),
            "last_changed_at": ColumnDoc(
                "timestamp",
                "request time of the fetch that wrote the newest version",
            ),
            "gone_at": ColumnDoc(
                "timestamp, null",
                (
                    "null unless the page is gone: request time of the first 404/410/soft-404 "
                    "since it was last seen, directly or at the end of its redirects; cleared "
                    "when it answers again"
                ),
            ),
            "etag": ColumnDoc(
                "text, null",
                "the `ETag` of the last successful response, sent back as `If-None-Match`",
            ),
            "last_modified": ColumnDoc(
                "text, null",
                (
                    "the `Last-Modified` header as the server wrote it, sent back as "
                    "`If-Modified-Since`"
                ),
            ),
        },
    ),
    "page_versions": TableDoc(
        "one row per distinct content of a page",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "page_id": ColumnDoc(
                "integer → `pages.id`",
                "the page",
            ),
            "version": ColumnDoc(
                "integer",
                "1, 2, 3 … per page, in order of capture time (`fetched_at`); unique with "
                "`page_id`. A crawl only adds the next number; `import-warc` can place an older "
                "capture before existing versions and renumber those after it (see [Imported "
                "captures](#imported-captures-import-warc)): `id` never changes",
            ),
            "fetched_at": ColumnDoc(
                "timestamp",
                "request time of the fetch that first saw this content; for an imported capture "
                "its WARC-Date (moved earlier when an older capture of the same content is "
                "imported)",
            ),
            "content_hash": ColumnDoc(
                "text (64)",
                "SHA-256 of the parsed content (see above); indexed",
            ),
            "raw_hash": ColumnDoc(
                "text (64) → `blobs.hash`",
                "SHA-256 of the raw response body this version was parsed from",
            ),
            "content_type": ColumnDoc(
                "text, null",
                "the response's `Content-Type` header (its charset matters for re-parsing)",
            ),
            "title": ColumnDoc(
                "text, null",
                "名称 / 标题 / 信息名称 / 文件名称 (else the page's title)",
            ),
            "index_no": ColumnDoc(
                "text, null",
                "索引号, e.g. `11341700744889543Y/202110-00006`",
            ),
            "category": ColumnDoc(
                "text, null",
                "组配分类 / 信息分类 / 分类",
            ),
            "publisher": ColumnDoc(
                "text, null",
                "发布机构 / 发文机关 / 发布单位",
            ),
            "topic": ColumnDoc(
                "text, null",
                "主题分类",
            ),
            "doc_number": ColumnDoc(
                "text, null",
                "文号 / 发文字号, e.g. `宣政办〔2021〕12号`",
            ),
            "published_date": ColumnDoc(
                "date, null",
                "发布日期 / 发文日期 / 生成日期 / 公开日期",
            ),
            "published_at": ColumnDoc(
                "timestamp, null",
                (
                    "the publication date **and time** when the page gives a time (stated in "
                    "China Standard Time, stored in UTC: `09:25` on the page is `01:25` UTC)"
                ),
            ),
            "written_date": ColumnDoc(
                "date, null",
                "成文日期",
            ),
            "effective_date": ColumnDoc(
                "date, null",
                "生效日期 / 实施日期",
            ),
            "expiry_date": ColumnDoc(
                "date, null",
                "废止日期 / 失效日期",
            ),
            "validity": ColumnDoc(
                "text, null",
                "有效性 / 效力状态 / 时效性, e.g. `有效`",
            ),
            "info_source": ColumnDoc(
                "text, null",
                "来源 / 信息来源 / 文章来源: the body the page says the document comes from — not "
                "our `sources` table. Named `source` before revision 0007 (see [Renamed "
                "columns](#renamed-columns))",
            ),
            "keywords": ColumnDoc(
                "text, null",
                "关键词 / 关键字 / 主题词",
            ),
            "summary": ColumnDoc(
                "text, null",
                "内容概述",
            ),
            "metadata_extra": ColumnDoc(
                "JSON",
                "every other labelled field of the metadata block, label → value",
            ),
            "body_text": ColumnDoc(
                "text",
                (
                    "the article's text: one line per paragraph or table row (cells joined with "
                    "` \\| `); for a page the parser reads nothing from, the page's visible text; "
                    'for a document, its text (see "What a version is")'
                ),
            ),
            "encoding": ColumnDoc(
                "text",
                (
                    "the codec the raw bytes were decoded with (`utf-8`, `gb18030` …); for a PDF "
                    "or .docx its format (`pdf`, `docx`), for a file without readable text "
                    "`binary`"
                ),
            ),
            "encoding_source": ColumnDoc(
                "text",
                (
                    "how it was chosen: `http`, `bom`, `meta`, `detected`, `fallback`; "
                    "`document` when the text was extracted from a document format rather than "
                    "decoded"
                ),
            ),
            "warnings": ColumnDoc(
                "JSON list",
                "the parser's notes on what it could not read (not part of the content hash)",
            ),
            "parser_version": ColumnDoc(
                "text",
                "the parser that produced this row",
            ),
            "http_status": ColumnDoc(
                "integer, null",
                "since revision 0008: the HTTP status of the answer that first brought this "
                "content (or of the imported record); null for versions archived before 0008",
            ),
            "response_headers": ColumnDoc(
                "JSON list, null",
                "since revision 0008: that answer's response headers as served, a list of `[name, "
                "value]` pairs in the order and case the server sent them (repeated names kept); "
                "`export --format warc` writes them back; null for versions archived before 0008",
            ),
        },
    ),
    "attachments": TableDoc(
        "the files a version's page linked (附件)",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "version_id": ColumnDoc(
                "integer",
                "→ `page_versions.id` (deleted with it)",
            ),
            "position": ColumnDoc(
                "integer",
                "1-based order among the page's attachments, as linked; unique per version",
            ),
            "url": ColumnDoc(
                "text",
                "the file's absolute URL, as linked",
            ),
            "link_text": ColumnDoc(
                "text",
                "the link's text (`附件1：2023年工作要点.pdf`); an image's alt text; may be empty",
            ),
            "filename": ColumnDoc(
                "text, null",
                (
                    "the file's name: from the link text when it ends in a file extension, else "
                    "the download handler's `filename=`/`name=` parameter, else the URL path's "
                    "last segment; null when none of these names one"
                ),
            ),
            "kind": ColumnDoc(
                "text, null",
                (
                    "what the bytes are, sniffed from them (never from the URL): `pdf`, `docx`, "
                    "`xlsx`, `xls`, `ofd`, `doc`, `wps`, `et`, `zip`, `rar`, `7z`, `text`, "
                    "`image`, `other`; null when never downloaded"
                ),
            ),
            "content_type": ColumnDoc(
                "text, null",
                "the `Content-Type` the server sent",
            ),
            "size": ColumnDoc(
                "integer, null",
                "bytes",
            ),
            "sha256": ColumnDoc(
                "text (64), null",
                (
                    "SHA-256 of the bytes, and the blob holding them; indexed; null when they "
                    "were never downloaded (`download_error` says why)"
                ),
            ),
            "text": ColumnDoc(
                "text, null",
                (
                    "the file's text, one line per paragraph or table row (cells joined by ` \\| "
                    "`, each sheet headed by its name); null when none could be read "
                    "(`extract_error` says why)"
                ),
            ),
            "extractor": ColumnDoc(
                "text, null",
                "what read the text, with its version (`pypdf 5.1.0` …)",
            ),
            "extract_error": ColumnDoc(
                "text, null",
                (
                    "why there is no text (scanned PDF without a text layer, encrypted, corrupt, "
                    "a format with no reader, over the time limit …), or what was left out"
                ),
            ),
            "download_error": ColumnDoc(
                "text, null",
                (
                    "null when this crawl downloaded the bytes (or a 304 confirmed them). "
                    "Otherwise why this crawl's download failed: the bytes, text and `sha256` "
                    "are then those of the page's previous version's file at the same URL (a "
                    "failed download proves no change), or null when there never were any"
                ),
            ),
            "fetched_at": ColumnDoc(
                "timestamp, null",
                "when the bytes were downloaded or last confirmed",
            ),
            "etag": ColumnDoc(
                "text, null",
                "the file's ETag, sent back as If-None-Match on the next crawl",
            ),
            "last_modified": ColumnDoc(
                "text, null",
                "the file's Last-Modified, sent back as If-Modified-Since on the next crawl",
            ),
        },
    ),
    "warc_captures": TableDoc(
        "every WARC or ARC record `import-warc` read for a source",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "source_id": ColumnDoc(
                "integer → `sources.id`",
                "the source the import was for; indexed",
            ),
            "page_id": ColumnDoc(
                "integer, null → `pages.id`",
                "the page the record's URL is; null when the record was skipped before a page was "
                "made; indexed",
            ),
            "version_id": ColumnDoc(
                "integer, null → `page_versions.id`",
                "the version the capture made (`new_version`), confirmed (`unchanged`) or now "
                "starts (`earlier`); null when skipped; indexed",
            ),
            "warc_file": ColumnDoc(
                "text",
                "the file's name, without its folder",
            ),
            "record_offset": ColumnDoc(
                "integer",
                "where the record starts in the file (in the gzip stream for `.warc.gz` compressed "
                "as one stream)",
            ),
            "record_id": ColumnDoc(
                "text",
                "the record's `WARC-Record-ID`; for an ARC record, which has none, "
                "`<urn:govarchive:arc:…>` made from its URL, date, length and address; unique",
            ),
            "record_type": ColumnDoc(
                "text",
                "`response` or `revisit` (a revisit's content is the record it refers to)",
            ),
            "url": ColumnDoc(
                "text",
                "the record's `WARC-Target-URI`",
            ),
            "captured_at": ColumnDoc(
                "timestamp",
                "the record's `WARC-Date`: when the capturing crawler fetched it",
            ),
            "http_status": ColumnDoc(
                "integer, null",
                "the status of the recorded HTTP answer",
            ),
            "outcome": ColumnDoc(
                "text",
                "`new_version`, `unchanged`, `earlier`, `redirect`, `gone`, `blocked`, `suspect`, "
                "`error`, `unresolved` (see below)",
            ),
            "error": ColumnDoc(
                "text, null",
                "why a skipped record was skipped",
            ),
            "imported_at": ColumnDoc(
                "timestamp",
                "when the import read it",
            ),
        },
    ),
    "fetches": TableDoc(
        "every attempt, successful or not",
        {
            "id": ColumnDoc(
                "integer (64-bit)",
                "primary key",
            ),
            "crawl_run_id": ColumnDoc(
                "integer → `crawl_runs.id`",
                "the run; indexed",
            ),
            "page_id": ColumnDoc(
                "integer, null → `pages.id`",
                "the page, when the URL is an archived page; indexed",
            ),
            "url": ColumnDoc(
                "text",
                "the URL requested (its canonical form); the page's URL when it is a page",
            ),
            "requested_at": ColumnDoc(
                "timestamp",
                "when the request was made",
            ),
            "http_status": ColumnDoc(
                "integer, null",
                "the final HTTP status; null when no response was received",
            ),
            "outcome": ColumnDoc(
                "text",
                "see below",
            ),
            "error": ColumnDoc(
                "text, null",
                "what went wrong, for failures",
            ),
            "elapsed_ms": ColumnDoc(
                "integer",
                "milliseconds from request to complete body, retries included",
            ),
            "bytes": ColumnDoc(
                "integer, null",
                "size of the response body in bytes (decompressed)",
            ),
            "raw_hash": ColumnDoc(
                "text (64), null",
                (
                    "SHA-256 of the body (also when it was not stored because the content was "
                    "unchanged)"
                ),
            ),
            "version_id": ColumnDoc(
                "integer, null → `page_versions.id`",
                (
                    "the version this fetch observed: the new one for `new_version`, the current "
                    "one for `unchanged` and `not_modified`; null for `suspect`"
                ),
            ),
            "final_url": ColumnDoc(
                "text, null",
                (
                    "since revision 0003: where the answer came from when same-site redirects "
                    "led away from `url` (a page that moved, an error page); null when `url` "
                    "answered itself"
                ),
            ),
            "content_hash": ColumnDoc(
                "text (64), null",
                (
                    "since revision 0003: for a `suspect` fetch, the content hash of the answer "
                    "held back (the next answer is compared with it); null otherwise (a "
                    "`new_version` or `unchanged` fetch read its version's content)"
                ),
            ),
            "attachment": ColumnDoc(
                "boolean",
                (
                    "since revision 0005: true for a request made for an attachment of the page "
                    "`page_id` (`url` is the file's); `version_id` is then the version the file "
                    "belongs to. Its `outcome` is `new_version` when the bytes differ from the "
                    "previous version's file at that URL, `unchanged` when not, `not_modified` "
                    "for a 304, or why no bytes came (`error`, `blocked`, `too_large`, `gone` "
                    "…). Left out of `crawl_runs`' page counts"
                ),
            ),
        },
    ),
    "task_sections": TableDoc(
        "the numbered tasks (一、… / 任务一、…) of a version",
        {
            "id": ColumnDoc(
                "integer",
                "primary key",
            ),
            "version_id": ColumnDoc(
                "integer → `page_versions.id`",
                "the version; unique with `number`",
            ),
            "number": ColumnDoc(
                "integer",
                "the task's number (一 = 1, 十一 = 11 …)",
            ),
            "title": ColumnDoc(
                "text",
                "the heading text after the numeral",
            ),
            "status": ColumnDoc(
                "text, null",
                "完成状态 / 完成情况 / 进度 / 办理状态, e.g. `已完成`, `持续推进`, `滞后`",
            ),
            "progress": ColumnDoc(
                "text, null",
                "进展情况 / 工作进展 / 推进情况 / 落实情况",
            ),
            "problems": ColumnDoc(
                "text, null",
                "存在的问题 / 存在问题 / 困难和问题",
            ),
            "next_steps": ColumnDoc(
                "text, null",
                "下一步工作安排 / 下一步计划 / 下步打算 …",
            ),
            "extra": ColumnDoc(
                "JSON",
                "other labelled fields of the task (责任单位, 牵头单位, 完成时限 …)",
            ),
        },
    ),
}
