"""Web archive files (WARC, ARC) read for ``govarchive import-warc``: see
:mod:`scraper.warc.records`."""

from scraper.warc.records import (
    CaptureRef,
    Payload,
    Scan,
    ScanProblem,
    WarcReader,
    resolve_revisits,
)

__all__ = ["CaptureRef", "Payload", "Scan", "ScanProblem", "WarcReader", "resolve_revisits"]
