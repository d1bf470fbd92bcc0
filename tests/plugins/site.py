"""The local test site on 127.0.0.1, port 0 (owned by the fetch tests).

``site`` is function-scoped: every test starts with an empty route table and an
empty request log (starting a server costs about a millisecond). ``site_factory``
starts further sites, e.g. an off-site host or more hosts for concurrency tests;
all are shut down at teardown. See tests/site/server.py for the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.site.server import TestSite, serve


@pytest.fixture
def site() -> Iterator[TestSite]:
    """A running local site with no routes (unknown paths answer 404)."""
    with serve() as running:
        yield running


@pytest.fixture
def site_factory() -> Iterator[Callable[[], TestSite]]:
    """A function that starts another local site on a new port; all stop at teardown."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(serve())
