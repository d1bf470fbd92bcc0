"""The SQL recipes of docs/schema.md ("Recipes"), for tools that offer them ready to run.

``govarchive datasette-metadata`` makes each a canned query. docs/schema.md is where
researchers read them; tests/storage/test_schema_doc.py runs the doc's recipes on SQLite
and PostgreSQL, and tests/storage/test_descriptions.py asserts that this list is exactly
the doc's (titles, introductions and SQL), so the two cannot drift. Every recipe runs
unchanged on both databases; the queries on the job queue (PostgreSQL only) are not here.
"""

from __future__ import annotations

from typing import NamedTuple


class Recipe(NamedTuple):
    """One recipe: a short ASCII name (a URL path segment), the doc's heading, the
    doc's text before the SQL (Markdown, may be empty), and the SQL without its ``;``."""

    name: str
    title: str
    description: str
    sql: str


#: In the doc's order.
RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "page_on_date",
        "What a page said on a given date",
        "The newest version first seen at or before the date (midnight UTC).",
        """\
SELECT v.version, v.fetched_at, v.title, v.published_date, v.body_text
FROM pages p
JOIN page_versions v ON v.page_id = p.id
WHERE p.url = 'https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405711.html'
  AND v.fetched_at <= '2024-06-01'
ORDER BY v.version DESC
LIMIT 1""",
    ),
    Recipe(
        "task_status_changes_between_quarters",
        ("Every task whose status changed between two quarters' reports of one publisher"),
        (
            "Tasks are matched by number; match on `s2.title = s3.title` instead if the "
            "numbering moved."
        ),
        """\
SELECT s2.number, s3.title, s2.status AS status_q2, s3.status AS status_q3
FROM latest_versions q2
JOIN latest_versions q3 ON q3.publisher = q2.publisher
JOIN task_sections s2 ON s2.version_id = q2.version_id
JOIN task_sections s3 ON s3.version_id = q3.version_id AND s3.number = s2.number
WHERE q2.publisher = '市数据资源局(市政务服务局)'
  AND q2.title LIKE '2021年度二季度%'
  AND q3.title LIKE '2021年度三季度%'
  AND COALESCE(s2.status, '') <> COALESCE(s3.status, '')
ORDER BY s2.number""",
    ),
    Recipe(
        "tasks_lagging_or_ongoing",
        "All tasks still 滞后 or 持续推进 in the latest versions",
        "",
        """\
SELECT lv.url, lv.title AS report, lv.published_date, s.number, s.title AS task, s.status
FROM latest_versions lv
JOIN task_sections s ON s.version_id = lv.version_id
WHERE lv.gone_at IS NULL
  AND (s.status LIKE '%滞后%' OR s.status LIKE '%持续推进%')
ORDER BY lv.published_date DESC, lv.url, s.number""",
    ),
    Recipe(
        "pages_gone",
        "Pages that disappeared, and when",
        "",
        """\
SELECT lv.source_name, lv.url, lv.title, lv.gone_at, lv.last_fetched_at AS last_seen_at
FROM latest_versions lv
WHERE lv.gone_at IS NOT NULL
ORDER BY lv.gone_at DESC""",
    ),
    Recipe(
        "failure_rate_per_source",
        "Failure rate per source over the last month",
        (
            "`error`, `blocked`, `too_large` and `suspect` count as failures; list-page "
            "fetches are left out (add `OR (f.outcome = 'list_page' AND f.error IS NOT NULL)` "
            "to count list pages that could not be read)."
        ),
        """\
SELECT s.name AS source,
       COUNT(*) AS fetches,
       SUM(CASE WHEN f.outcome IN ('error', 'blocked', 'too_large', 'suspect') THEN 1 ELSE 0 END) AS failures,
       ROUND(100.0 * SUM(CASE WHEN f.outcome IN ('error', 'blocked', 'too_large', 'suspect') THEN 1 ELSE 0 END)
             / COUNT(*), 1) AS failure_pct
FROM fetches f
JOIN crawl_runs r ON r.id = f.crawl_run_id
JOIN sources s ON s.id = r.source_id
WHERE f.requested_at >= '2024-05-20' AND f.outcome <> 'list_page'
GROUP BY s.name
ORDER BY failure_pct DESC, s.name""",  # noqa: E501
    ),
    Recipe(
        "report_task_history",
        "The history of one report's tasks",
        "",
        """\
SELECT number, change, old_version, new_version, new_fetched_at, old_status, new_status
FROM section_changes
WHERE url = 'https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405711.html'
ORDER BY number, new_version""",
    ),
    Recipe(
        "pages_changed_in_period",
        "Pages whose content changed in a period",
        "",
        """\
SELECT p.url, v.version, v.fetched_at, v.title
FROM page_versions v
JOIN pages p ON p.id = v.page_id
WHERE v.version > 1
  AND v.fetched_at >= '2024-06-01' AND v.fetched_at < '2024-07-01'
ORDER BY v.fetched_at""",
    ),
    Recipe(
        "latest_run_per_source",
        "The latest run of every source",
        "",
        """\
SELECT s.name, r.status, r.started_at, r.finished_at, r.pages_seen, r.new_versions, r.errors
FROM crawl_runs r
JOIN sources s ON s.id = r.source_id
WHERE r.id = (SELECT MAX(r2.id) FROM crawl_runs r2 WHERE r2.source_id = r.source_id)
ORDER BY s.name""",
    ),
    Recipe(
        "documents_per_publisher_and_year",
        "Documents per publisher and year",
        "",
        """\
SELECT publisher, SUBSTR(CAST(published_date AS TEXT), 1, 4) AS year, COUNT(*) AS documents
FROM latest_versions
WHERE published_date IS NOT NULL
GROUP BY publisher, SUBSTR(CAST(published_date AS TEXT), 1, 4)
ORDER BY year DESC, documents DESC, publisher""",
    ),
    Recipe(
        "publisher_pdfs_in_year",
        "All PDFs of one publisher in a year",
        (
            "Every distinct PDF that the publisher's documents of 2021 linked, in any "
            "version (a file replaced under the same URL appears once per content), with "
            "the versions that linked it."
        ),
        """\
SELECT p.url, v.published_date, a.filename, a.sha256, a.size,
       MIN(v.version) AS first_version, MAX(v.version) AS last_version
FROM attachments a
JOIN page_versions v ON v.id = a.version_id
JOIN pages p ON p.id = v.page_id
WHERE v.publisher = '市数据资源局(市政务服务局)'
  AND v.published_date >= '2021-01-01' AND v.published_date < '2022-01-01'
  AND a.kind = 'pdf'
GROUP BY p.url, v.published_date, a.filename, a.sha256, a.size
ORDER BY v.published_date, p.url, first_version""",
    ),
    Recipe(
        "attachments_replaced",
        "Attachments replaced after publication",
        (
            "Files whose bytes changed under the same URL from one version of a page to "
            "the next, with when each version was fetched. A download that failed is "
            "carried over with the previous bytes (`download_error`), so it never shows "
            "here as a replacement."
        ),
        """\
SELECT p.url, a2.url AS file_url, a2.filename,
       v1.version AS old_version, v1.fetched_at AS old_fetched_at, a1.sha256 AS old_sha256,
       v2.version AS new_version, v2.fetched_at AS new_fetched_at, a2.sha256 AS new_sha256
FROM attachments a2
JOIN page_versions v2 ON v2.id = a2.version_id
JOIN page_versions v1 ON v1.page_id = v2.page_id AND v1.version = v2.version - 1
JOIN attachments a1 ON a1.version_id = v1.id AND a1.url = a2.url
JOIN pages p ON p.id = v2.page_id
WHERE a1.sha256 <> a2.sha256
ORDER BY v2.fetched_at, p.url, a2.position""",
    ),
    Recipe(
        "attachments_with_phrase",
        "Attachments whose text contains a phrase",
        (
            "Full text of the files each page links now (its latest version); join "
            "`page_versions` instead of `latest_versions` to search the files of every "
            "version. Files without text (scanned PDFs, formats with no reader) have "
            "`text` NULL and `extract_error` saying why."
        ),
        """\
SELECT lv.url, lv.title, a.position, a.filename, a.kind
FROM latest_versions lv
JOIN attachments a ON a.version_id = lv.version_id
WHERE a.text LIKE '%一网通办%'
ORDER BY lv.url, a.position""",
    ),
)
