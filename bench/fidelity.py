"""Fidelity report: how much of what real pages say the parser reads right.

Run by hand (never in the test suite)::

    .venv/bin/python bench/fidelity.py                  # tests/fixtures/real/, a table
    .venv/bin/python bench/fidelity.py --misses         # and every field read wrong
    .venv/bin/python bench/fidelity.py --corpus DIR     # another folder in the same format

For every page of the real corpus (byte-exact saved pages, labelled by hand:
tests/fixtures/real/README.md) it compares each labelled field with what
``scraper.parse.parse_page`` reads, and checks the article text: that ``body_text``
starts and ends with the article, contains its sentences, and holds none of the page's
chrome (footer, navigation, widgets). It prints per-field accuracy, the share of pages
read wholly right, and the body checks. tests/parse/test_real_corpus.py asserts the same
page by page; this script is the summary for the README.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.realcorpus import (  # noqa: E402
    LABELLED_FIELDS,
    REAL_DIR,
    RealPage,
    field_results,
    load_pages,
    parsed,
    sites,
    tally,
)


def body_problems(page: RealPage) -> list[str]:
    """What is wrong with the page's body_text, by its golden ``body`` labels."""
    body = parsed(page.path).body_text
    labels = page.body
    problems = []
    if labels.get("empty"):
        if body:
            problems.append("not empty")
    else:
        if labels.get("starts_with") and not body.startswith(labels["starts_with"]):
            problems.append("start")
        if labels.get("ends_with") and not body.endswith(labels["ends_with"]):
            problems.append("end")
        if any(snippet not in body for snippet in labels.get("contains", [])):
            problems.append("missing text")
    if any(snippet in body for snippet in labels.get("absent", [])):
        problems.append("chrome")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REAL_DIR)
    parser.add_argument("--misses", action="store_true", help="list every field read wrong")
    args = parser.parse_args()

    pages = load_pages(args.corpus)
    results = [result for page in pages for result in field_results(page)]
    overall, per_field = tally(results)
    regions = {page.provenance["region"] for page in pages}
    print(
        f"{len(pages)} pages from {len(sites(pages))} sites in {len(regions)} provinces and "
        f"ministries ({args.corpus})"
    )
    print()
    print(f"{'field':<16}{'pages':>6}{'right':>7}{'rate':>8}")
    for name in LABELLED_FIELDS:
        counts = per_field.get(name)
        if counts is not None:
            print(f"{name:<16}{counts.total:>6}{counts.right:>7}{counts.rate:>8.1%}")
    print(f"{'all fields':<16}{overall.total:>6}{overall.right:>7}{overall.rate:>8.1%}")
    wholly = sum(all(r.right for r in field_results(page)) for page in pages)
    print(f"\npages with every field right: {wholly}/{len(pages)} ({wholly / len(pages):.0%})")

    problems = {page.slug: body_problems(page) for page in pages}
    clean = sum(not found for found in problems.values())
    kinds = Counter(problem for found in problems.values() for problem in found)
    print(f"pages whose body_text is the article and nothing else: {clean}/{len(pages)}")
    if kinds:
        print("  body problems: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    sections = sum(
        parsed(page.path).to_dict()["sections"] == page.expected["sections"] for page in pages
    )
    print(f"pages whose task sections are right: {sections}/{len(pages)}")

    if args.misses:
        print()
        for result in results:
            if not result.right:
                print(f"  {result.slug}  {result.field}: {result.expected!r} ≠ {result.got!r}")
        for slug, found in problems.items():
            if found:
                print(f"  {slug}  body: {', '.join(found)}")


if __name__ == "__main__":
    main()
