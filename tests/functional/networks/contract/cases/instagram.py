"""Instagram in the network contract: the Meta adapter against tests/fakes/meta_graph.py."""
from __future__ import annotations

from contextlib import AbstractContextManager

from chalicelib.core.clock import Clock
from tests.functional.networks.contract.cases._meta import MetaContract, start_meta


def start(clock: Clock) -> AbstractContextManager[MetaContract]:
    return start_meta("instagram", clock)
