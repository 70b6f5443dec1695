"""Real servers for integration tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pds import LocalPds, install_harness, node_executable


@pytest.fixture(scope="session")
def local_pds() -> Iterator[LocalPds]:
    """A real Bluesky PDS + PLC directory on 127.0.0.1, one per test session.

    Skipped only when Node is not installed; any other failure to start is an error, not a skip.
    """
    if node_executable() is None:
        pytest.skip("node is not installed: the Bluesky PDS integration tests need Node 20+")
    install_harness()
    with LocalPds() as pds:
        yield pds
