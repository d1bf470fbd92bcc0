"""Attachment text benchmark: PDF libraries side by side, and the other formats' readers.

Run by hand (never in the test suite)::

    .venv/bin/python bench/attachments.py              # best of 5 rounds
    .venv/bin/python bench/attachments.py --rounds 9 --keep /tmp/bench-files

The files are a real-looking government document (:func:`tests.attachment_files.
government_document`: a 通知 with its 文号, numbered headings, paragraphs and a task table
per part; six parts, ten A4 pages) written as:

- ``pdf-cid``: a PDF made by reportlab in the ``STSong-Light`` CID font, not embedded
  (``UniGB-UCS2-H``), as many Chinese producers write them;
- ``pdf-lo``: the same document as a .docx converted by LibreOffice (when ``soffice`` is
  on the PATH) with an embedded subset TrueType CJK font (``fc-list :lang=zh`` must list
  one) and real tables: how most office-made PDFs look;
- ``.docx``, ``.xlsx`` (the task tables as a three-sheet workbook, 400 rows each), ``.ofd``
  (a TextObject per line, ten pages) and, from LibreOffice, ``.doc`` and ``.xls``.

Each PDF library extracts the text of every page (pypdf ``extract_text``, pdfminer.six
``extract_text``, pypdfium2 ``get_text_range``, PyMuPDF ``get_text``; one that is not
installed is skipped). Correctness: the share of the document's lines (whitespace and
``|`` removed) found in the extracted text likewise stripped, and whether table cells stay
apart (a task and its 责任单位 not run together). Speed: CPU time of this thread, the best
of ``--rounds`` rounds, as ms per page and MB/s, with the ratio to the fastest. The other
formats go through :func:`scraper.extract.files.read_file` as the crawl calls it.
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.extract.files import read_file  # noqa: E402
from tests.attachment_files import (  # noqa: E402
    Block,
    block_lines,
    doc_bytes,
    docx_document_xml,
    government_document,
    ofd_bytes,
    pdf_bytes,
    xlsx_bytes,
)
from tests.documents import docx_bytes  # noqa: E402

_SPACE = re.compile(r"[\s|]+")


def _pypdf(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return str(extract_text(io.BytesIO(data)))


def _pdfium(data: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    texts = []
    for page in document:
        textpage = page.get_textpage()
        texts.append(textpage.get_text_range())
        textpage.close()
        page.close()
    document.close()
    return "\n".join(texts)


def _pymupdf(data: bytes) -> str:
    import pymupdf

    with pymupdf.open(stream=data, filetype="pdf") as document:
        return "\n".join(str(page.get_text()) for page in document)


def _python_docx(data: bytes) -> str:
    import docx  # type: ignore[import-not-found,unused-ignore]

    document = docx.Document(io.BytesIO(data))
    lines = []
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            lines += [" | ".join(cell.text for cell in row.cells) for row in block.rows]
        else:
            lines.append(block.text)
    return "\n".join(lines)


#: name → (import name, licence, extract function)
PDF_LIBRARIES: dict[str, tuple[str, str, Callable[[bytes], str]]] = {
    "pypdf": ("pypdf", "BSD-3", _pypdf),
    "pdfminer.six": ("pdfminer", "MIT", _pdfminer),
    "pypdfium2": ("pypdfium2", "BSD-3/Apache-2.0", _pdfium),
    "PyMuPDF": ("pymupdf", "AGPL-3.0", _pymupdf),
}


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def best_seconds(work: Callable[[], object], rounds: int, repeat: int) -> float:
    """The best (lowest) CPU seconds of one call over ``rounds`` rounds of ``repeat``."""
    work()  # warm up: imports, caches
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.thread_time()
        for _ in range(repeat):
            work()
        best = min(best, (time.thread_time() - start) / repeat)
    return best


def lines_found(blocks: list[Block], text: str) -> float:
    """The share of the document's lines found in ``text`` (whitespace and | ignored)."""
    flat = _SPACE.sub("", text)
    lines = [_SPACE.sub("", line) for line in block_lines(blocks)]
    lines = [line for line in lines if line]
    return sum(line in flat for line in lines) / len(lines)


def cells_apart(text: str) -> bool:
    """Whether a task's cell and its unit's cell stay apart (not run together)."""
    return re.search(r"一网通办\s*市发展改革委", text) is None or bool(
        re.search(r"一网通办(\s+|\s*\|\s*)市发展改革委", text)
    )


def libreoffice(docx: bytes, work: Path) -> dict[str, bytes]:
    """The .docx converted by LibreOffice to PDF and .doc (none without ``soffice``)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return {}
    source = work / "notice.docx"
    source.write_bytes(docx)
    made: dict[str, bytes] = {}
    for target, name in (("pdf", "pdf-lo"), ("doc:MS Word 97", "doc-lo")):
        subprocess.run(
            [soffice, "--headless", "--convert-to", target, "--outdir", str(work), str(source)],
            capture_output=True,
            timeout=180,
            check=False,
        )
        path = work / f"notice.{target.split(':')[0]}"
        if path.exists():
            made[name] = path.read_bytes()
    return made


def budget_rows(blocks: list[Block]) -> list[list[str | float]]:
    """A budget table of 400 rows drawn from the document's task tables."""
    tables = [content for kind, content in blocks if kind == "table"]
    rows: list[list[str | float]] = [
        ["序号", "项目名称", "主管部门", "预算金额（万元）", "执行率", "备注"]
    ]
    for n in range(1, 400):
        task = tables[n % len(tables)][1 + n % 8]
        amount = 1000.0 + n * 12.5
        rows.append([str(n), f"{task[1]}（第{n}批）", task[2], amount, n % 100 / 100, ""])
    return rows


def make_files(keep: Path | None) -> dict[str, tuple[bytes, list[Block] | None]]:
    """The bench's files by name, each with the blocks it holds (None: not comparable)."""
    short, long = government_document(6), government_document(10)  # ten pages each
    docx = docx_bytes([], document_xml=docx_document_xml(long))
    budget = budget_rows(long)
    files: dict[str, tuple[bytes, list[Block] | None]] = {
        "pdf-cid": (pdf_bytes(short), short),
        "docx": (docx, long),
        "xlsx": (xlsx_bytes({"2024年预算": budget, "2023年决算": budget, "说明": budget}), None),
        "ofd": (ofd_bytes(_pages(block_lines(long), 42)), long),
    }
    with tempfile.TemporaryDirectory() as work:
        made = libreoffice(docx, Path(work))
    files.update((name, (data, long)) for name, data in made.items())
    if "doc-lo" not in files:  # a .doc of ours: paragraphs and the first table only
        tables = [content for kind, content in long if kind == "table"]
        paragraphs = [str(c) for k, c in long if k != "table"]
        files["doc-gen"] = (doc_bytes(paragraphs, table=tables[0]), None)
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        for name, (data, _) in files.items():
            (keep / f"{name}.{name.split('-')[0]}").write_bytes(data)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best one counts")
    parser.add_argument("--keep", type=Path, help="also write the files into this directory")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    files = make_files(args.keep)

    import pypdfium2

    for name in ("pdf-cid", "pdf-lo"):
        if name not in files:
            print(f"\n{name}: not made (no soffice on the PATH)")
            continue
        data, blocks = files[name]
        assert blocks is not None
        pages = len(pypdfium2.PdfDocument(data))
        print(f"\n{name}: {pages} pages, {len(data) / 1024:.0f} KB")
        timings: dict[str, float] = {}
        for library, (module, licence, extract) in PDF_LIBRARIES.items():
            if not _installed(module):
                print(f"  {library:13} not installed")
                continue
            text = extract(data)
            seconds = best_seconds(functools.partial(extract, data), args.rounds, 3)
            timings[library] = seconds
            print(
                f"  {library:13} {_version(library):>9} {licence:16}"
                f" {seconds / pages * 1e3:7.2f} ms/page {len(data) / seconds / 1e6:7.2f} MB/s"
                f"  lines found {lines_found(blocks, text):6.1%}"
                f"  cells apart {'yes' if cells_apart(text) else 'NO'}"
            )
        fastest = min(timings.values())
        ratios = ", ".join(f"{k} {v / fastest:.1f}x" for k, v in timings.items())
        print(f"  ratio to the fastest: {ratios}")

    docx_data = files["docx"][0]
    if _installed("docx"):  # python-docx, the alternative to our reader of word/document.xml
        ours = best_seconds(functools.partial(read_file, docx_data), args.rounds, 3)
        theirs = best_seconds(functools.partial(_python_docx, docx_data), args.rounds, 3)
        print(
            f"\ndocx: python-docx {_version('python-docx')} {theirs * 1e3:.2f} ms,"
            f" docx-xml (ours) {ours * 1e3:.2f} ms: {theirs / ours:.1f}x"
        )

    print("\nread_file, by format:")
    for name, (data, blocks) in files.items():
        read = functools.partial(read_file, data, filename=f"x.{name.split('-')[0]}")
        got = read()
        seconds = best_seconds(read, args.rounds, 3)
        found = f"{lines_found(blocks, got.text or ''):6.1%}" if blocks else "     -"
        print(
            f"  {name:8} {got.kind:5} {len(data) / 1024:5.0f} KB {seconds * 1e3:7.2f} ms"
            f" {len(data) / seconds / 1e6:6.2f} MB/s  lines found {found}"
            f"  {got.extractor}; error: {got.error}"
        )
    return 0


def _pages(lines: list[str], per_page: int) -> list[list[str]]:
    wrapped = [line[k : k + 34] for line in lines for k in range(0, len(line), 34)]
    return [wrapped[k : k + per_page] for k in range(0, len(wrapped), per_page)]


if __name__ == "__main__":
    sys.exit(main())
