"""People tests: a workspace whose owner is a person (invited by the owner key, signed in with Cognito)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.people import Person, invite_person


@pytest.fixture
def owner(client: Any, workspace: Any) -> Person:
    return invite_person(client, workspace.headers(), "olivia@acme.test", "owner")
