"""What every functional test shares: Chalice's test client on moto (tests/support/fixtures.py) and `api`,
an owner's client of the workspace. A module needing another role defines its own `api`."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import Api


@pytest.fixture
def api(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers())
