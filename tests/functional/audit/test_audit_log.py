"""Every write through the API is in the audit log: who, what, when, from where and the fields set, never a
secret; read back by time, actor and object, newest first, and as CSV; admins only; append-only."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest

from tests.support.http import Api
from tests.support.webhooks import table_items


@pytest.fixture
def editor(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("editor"))


def key_id(workspace: Any, role: str) -> str:
    return "key:" + workspace.keys[role].split("_")[1]


def audit(api: Api, query: str = "") -> list[dict[str, Any]]:
    answer = api.get(f"/audit?{query}")
    assert answer.status_code == 200, answer.body
    return answer.json["items"]


def test_each_write_is_recorded_with_its_actor_object_and_changes_and_reads_are_not(
        api: Api, editor: Api, workspace: Any, clock: Any) -> None:
    channel = api.post("/channels", {"network": "sandbox", "name": "Main"}).json
    clock.advance(60)
    post = editor.post("/posts", {"text": "Hello", "channel_ids": [channel["id"]]}).json
    clock.advance(60)
    assert editor.patch(f"/posts/{post['id']}", {"text": "Hello again", "version": post["version"]}).status_code == 200
    editor.get(f"/posts/{post['id']}")
    assert editor.patch(f"/posts/{post['id']}", {"text": "stale", "version": 1}).status_code == 409  # not a write
    entries = audit(api)
    assert [(e["action"], e["object_type"], e["object_id"], e["actor"], e["actor_role"]) for e in entries] == [
        ("PATCH /posts/{post_id}", "posts", post["id"], key_id(workspace, "editor"), "editor"),
        ("POST /posts", "posts", post["id"], key_id(workspace, "editor"), "editor"),
        ("POST /channels", "channels", channel["id"], key_id(workspace, "owner"), "owner"),
    ]
    assert entries[0]["changes"] == {"text": "Hello again", "version": 1}
    assert entries[0]["at"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert entries[0]["status"] == 200 and entries[1]["status"] == 201


def test_no_secret_reaches_the_log(api: Api, deps: Any) -> None:
    created = api.post("/channels", {"network": "sandbox", "name": "B",
                                     "credentials": {"token": "sekret-sandbox-token"}})
    assert created.status_code == 201, created.body
    made = api.post("/webhook-endpoints", {"url": "https://hooks.example.com/x", "events": ["post.published"]})
    assert made.status_code == 201
    stored = json.dumps(table_items(deps, "audit_log"))
    assert "sekret-sandbox-token" not in stored and made.json["secret"] not in stored
    entries = audit(api)
    channel_entry = next(e for e in entries if e["action"] == "POST /channels")
    assert channel_entry["changes"]["credentials"] == "[redacted]"
    assert channel_entry["changes"]["name"] == "B"


def test_the_log_is_read_by_actor_object_and_time_newest_first_in_pages(
        api: Api, editor: Api, workspace: Any, clock: Any) -> None:
    channel = api.post("/channels", {"network": "sandbox", "name": "Main"}).json["id"]
    start = clock.now()
    posts = []
    for n in range(5):
        clock.advance(60)
        posts.append(editor.post("/posts", {"text": f"post {n}", "channel_ids": [channel]}).json)
    by_editor = audit(api, f"actor={key_id(workspace, 'editor')}")
    assert [e["object_id"] for e in by_editor] == [p["id"] for p in reversed(posts)]
    assert [e["object_id"] for e in audit(api, f"object={posts[2]['id']}")] == [posts[2]["id"]]
    window = (f"from={(start + timedelta(seconds=90)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
              f"&to={(start + timedelta(seconds=210)).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    assert [e["object_id"] for e in audit(api, window)] == [posts[2]["id"], posts[1]["id"]]
    first = api.get("/audit?limit=2").json
    second = api.get(f"/audit?limit=2&cursor={first['next_cursor']}").json
    assert [e["object_id"] for e in first["items"] + second["items"]] == [p["id"] for p in reversed(posts)][:4]


def test_the_log_exports_as_csv_a_spreadsheet_cannot_run(api: Api) -> None:
    channel = api.post("/channels", {"network": "sandbox", "name": "Main"},
                       headers={"User-Agent": "=cmd|' /C calc'!A0"}).json
    answer = api.get("/audit?format=csv")
    headers = {k.lower(): v for k, v in answer.headers.items()}
    assert answer.status_code == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.body.decode())))
    assert rows[0] == ["at", "actor", "actor_role", "action", "object_type", "object_id", "status", "source_ip",
                       "user_agent", "changes"]
    [row] = rows[1:]
    assert row[3] == "POST /channels" and row[5] == channel["id"]
    assert row[8] == "'=cmd|' /C calc'!A0"  # shown as text, never run as a formula
    assert json.loads(row[9]) == {"network": "sandbox", "name": "Main"}


def test_only_admins_read_the_log_and_each_workspace_sees_its_own(
        client: Any, workspace: Any, other_workspace: Any, api: Api, editor: Api) -> None:
    api.post("/channels", {"network": "sandbox", "name": "Main"})
    assert editor.get("/audit").status_code == 403
    other = Api(client, other_workspace.headers("owner"))
    assert audit(other) == []
    cursor = api.get("/audit?limit=1").json["next_cursor"]
    if cursor:
        assert other.get(f"/audit?cursor={cursor}").status_code in (400, 422)


def test_entries_expire_with_the_workspace_s_retention(api: Api, deps: Any, clock: Any) -> None:
    assert api.get("/audit").json["retention_days"] == 365
    assert api.patch("/workspace", {"audit_retention_days": 90}).status_code == 200
    assert api.get("/audit").json["retention_days"] == 90
    assert api.patch("/workspace", {"audit_retention_days": 7}).status_code == 422
    deps.audit_log._retention.clear()
    api.post("/channels", {"network": "sandbox", "name": "Main"})
    newest = max(table_items(deps, "audit_log"), key=lambda item: item["entry_key"]["S"])
    assert int(newest["expires_at_epoch"]["N"]) == int((clock.now() + timedelta(days=90)).timestamp())
