"""What each role may do, and what a missing or bad key gets."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.factories import connect_sandbox, iso, make_post
from tests.support.http import Api

# Every route that changes something, with a body that the owner could send.
WRITE_ROUTES = [
    ("POST", "/channels", {"network": "sandbox", "name": "New", "credentials": {}}),
    ("PATCH", "/channels/{channel}", {"name": "Renamed"}),
    ("DELETE", "/channels/{channel}", None),
    ("POST", "/posts", {"text": "Hi", "channel_ids": ["{channel}"]}),
    ("PATCH", "/posts/{post}", {"text": "Changed", "version": 1}),
    ("DELETE", "/posts/{post}", None),
    ("POST", "/posts/{post}/schedule", {"publish_at": "2026-03-05T10:00:00Z"}),
    ("POST", "/posts/{post}/cancel", None),
    ("POST", "/posts/{post}/publish-now", None),
    ("PATCH", "/workspace", {"name": "Renamed"}),
    ("POST", "/workspace/calendar-feed", None),
    ("POST", "/workspace/calendar-feed/rotate", None),
    ("DELETE", "/workspace/calendar-feed", None),
]
# Admins manage the workspace: its channels, its name and zone, and its public calendar feed.
ADMIN_ROUTES = [route for route in WRITE_ROUTES if route[1].startswith(("/channels", "/workspace"))]


@pytest.fixture
def objects(client: Any, workspace: Any, clock: Any) -> dict[str, str]:
    owner = Api(client, workspace.headers("owner"))
    channel = connect_sandbox(owner)
    post = make_post(owner, [channel["id"]], clock.now() + timedelta(days=1))
    return {"channel": channel["id"], "post": post["id"]}


def fill(path: str, body: Any, objects: dict[str, str]) -> tuple[str, Any]:
    if body is not None:
        body = {k: [v.format(**objects) for v in value] if isinstance(value, list) else value
                for k, value in body.items()}
    return path.format(**objects), body


def snapshot(owner: Api, objects: dict[str, str]) -> list[Any]:
    return [owner.get(path).json for path in
            ("/workspace", "/channels", f"/posts/{objects['post']}", "/posts", "/workspace/calendar-feed")]


@pytest.mark.parametrize(("method", "path", "body"), WRITE_ROUTES)
def test_a_viewer_cannot_write(client, workspace, objects, method, path, body):
    owner = Api(client, workspace.headers("owner"))
    viewer = Api(client, workspace.headers("viewer"))
    before = snapshot(owner, objects)
    response = viewer.call(method, *fill(path, body, objects))
    assert response.status_code == 403, response.body
    assert response.json["error"]["code"] == "forbidden"
    assert snapshot(owner, objects) == before


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_an_editor_cannot_connect_channels_nor_change_the_workspace(client, workspace, objects, method, path, body):
    owner = Api(client, workspace.headers("owner"))
    editor = Api(client, workspace.headers("editor"))
    before = snapshot(owner, objects)
    response = editor.call(method, *fill(path, body, objects))
    assert response.status_code == 403, response.body
    assert "admin" in response.json["error"]["message"]
    assert snapshot(owner, objects) == before


def test_an_editor_writes_schedules_and_cancels_posts(client, workspace, objects, clock):
    editor = Api(client, workspace.headers("editor"))
    post = make_post(editor, [objects["channel"]], text="From the editor")
    scheduled = editor.post(f"/posts/{post['id']}/schedule", {"publish_at": iso(clock.now() + timedelta(hours=3))})
    assert scheduled.status_code == 200 and scheduled.json["status"] == "scheduled"
    assert editor.post(f"/posts/{post['id']}/cancel").json["status"] == "canceled"


def test_an_admin_connects_channels_and_renames_the_workspace(client, workspace):
    admin = Api(client, workspace.headers("admin"))
    assert admin.post("/channels", {"network": "sandbox", "name": "By admin"}).status_code == 201
    assert admin.patch("/workspace", {"name": "New name"}).json["name"] == "New name"


def test_a_viewer_reads_everything(client, workspace, objects):
    viewer = Api(client, workspace.headers("viewer"))
    for path in ("/workspace", "/channels", f"/channels/{objects['channel']}", "/posts", f"/posts/{objects['post']}",
                 "/calendar?month=2026-03", "/workspace/calendar-feed",
                 f"/channels/{objects['channel']}/sandbox/posts"):
        assert viewer.get(path).status_code == 200, path


GARBLED = [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-key",
           "Bearer hrld_0123456789abcdef_" + "A" * 43, "hrld_0123456789abcdef_" + "A" * 43]


def test_a_missing_or_garbled_key_is_unauthorized(client, workspace):
    for authorization in GARBLED:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        for method, path in (("GET", "/workspace"), ("POST", "/posts")):
            response = Api(client, headers).call(method, path, {"text": "x", "channel_ids": ["ch_x"]})
            assert response.status_code == 401, (authorization, method, path, response.body)
            assert response.json["error"]["code"] == "unauthorized"


def test_a_key_with_the_right_id_but_a_wrong_secret_is_unauthorized(client, workspace):
    key = workspace.keys["owner"]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = Api(client, {"Authorization": f"Bearer {tampered}"}).get("/workspace")
    assert response.status_code == 401


def test_a_revoked_key_stops_working(client, workspace, deps):
    viewer = Api(client, workspace.headers("viewer"))
    assert viewer.get("/workspace").status_code == 200
    key_id = workspace.keys["viewer"].split("_")[1]
    deps.access.revoke_key(workspace.id, key_id)
    response = viewer.get("/workspace")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert Api(client, workspace.headers("owner")).get("/workspace").status_code == 200


def test_the_scheme_name_is_case_insensitive(client, workspace):
    response = Api(client, {"Authorization": f"bearer {workspace.keys['viewer']}"}).get("/workspace")
    assert response.status_code == 200
