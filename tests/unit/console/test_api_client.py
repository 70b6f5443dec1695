"""The console's API client against the API's own OpenAPI document: an operation the console uses that the
document lacks (a renamed route, a dropped method) fails here, and so does a console/api.js not regenerated."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from chalice.test import Client

from console import build_client


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from app import app

    with Client(app) as client:
        return dict(json.loads(client.http.get("/openapi.json").body))


def test_every_operation_the_console_uses_is_in_the_document_with_its_method_and_path(document):
    available = build_client.document_operations(document)
    for name, operation in build_client.resolve(build_client.called_operations(), available).items():
        if operation["optional"]:
            continue
        assert available[name] == (operation["method"], operation["path"]), name


def test_api_js_is_what_the_document_gives(document):
    written = (build_client.OUTPUT).read_text(encoding="utf-8")
    assert written == build_client.build(document), "run .venv/bin/python console/build_client.py"


def test_a_route_the_console_calls_going_away_breaks_the_build(document):
    changed = copy.deepcopy(document)
    del changed["paths"]["/posts/validate"]

    with pytest.raises(SystemExit, match="post_posts_validate"):
        build_client.build(changed)


def test_a_changed_method_or_path_changes_the_client(document):
    changed = copy.deepcopy(document)
    changed["paths"]["/calendar/month"] = changed["paths"].pop("/calendar")

    assert '"/calendar/month"' in build_client.build(changed)
    assert build_client.build(changed) != build_client.OUTPUT.read_text(encoding="utf-8")


def test_optional_operations_are_those_later_releases_add_and_marked_so(document):
    """Sign-in, approvals, queue slots: the console shows them only where the running API has them."""
    rendered = build_client.resolve(build_client.called_operations(), build_client.document_operations(document))
    optional = {name for name, operation in rendered.items() if operation["optional"]}
    assert {"post_auth_sign_in", "get_me", "post_posts_post_id_approve", "get_channels_channel_id_queue"} <= optional
    for name in optional:
        method, path = build_client.OPTIONAL[name]
        present = build_client.document_operations(document).get(name)
        assert present in (None, (method, path)), f"{name} is in the document at {present}, not {method} {path}"
