"""Each role's limits with a person's token: a viewer cannot write, an editor cannot manage keys or members, a
client reviewer sees nothing but /me; another workspace's objects are a 404 whichever credential is used."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.factories import connect_sandbox, make_post
from tests.support.http import Api
from tests.support.people import Person, invite_person

# Reads each role from viewer up may make, and writes that need editor, admin or owner.
READS = [("GET", "/workspace", None), ("GET", "/channels", None), ("GET", "/posts", None),
         ("GET", "/calendar?month=2026-03", None), ("GET", "/members", None)]
EDITOR_WRITES = [("POST", "/saved-replies", {"name": "Thanks", "text": "Thank you!"}),
                 ("POST", "/media", {"filename": "a.png", "mime": "image/png", "size": 1000})]
ADMIN_WRITES = [("PATCH", "/workspace", {"name": "Renamed"}),
                ("POST", "/channels", {"network": "sandbox", "name": "S", "credentials": {"token": "t"}}),
                ("GET", "/api-keys", None),
                ("POST", "/api-keys", {"role": "viewer"}), ("POST", "/invitations", {"email": "x@acme.test",
                                                                                      "role": "viewer"}),
                ("GET", "/invitations", None)]


@pytest.fixture
def people(client: Any, workspace: Any, owner: Person) -> dict[str, Person]:
    found = {"owner": owner}
    for role in ("admin", "editor", "viewer", "client"):
        found[role] = invite_person(client, owner.headers(), f"{role}@acme.test", role)
    return found


def status(client: Any, person: Person, method: str, path: str, body: Any) -> int:
    return int(Api(client, person.headers()).call(method, path, body).status_code)


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_every_member_but_a_client_reads(client: Any, people: dict[str, Person], method: str, path: str,
                                         body: Any) -> None:
    answers = {role: status(client, person, method, path, body) for role, person in people.items()}
    assert answers == {"owner": 200, "admin": 200, "editor": 200, "viewer": 200, "client": 403}


@pytest.mark.parametrize(("method", "path", "body"), EDITOR_WRITES)
def test_a_viewer_cannot_write(client: Any, people: dict[str, Person], method: str, path: str, body: Any) -> None:
    assert status(client, people["viewer"], method, path, body) == 403
    assert status(client, people["client"], method, path, body) == 403
    assert status(client, people["editor"], method, path, body) == 201


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_WRITES)
def test_an_editor_cannot_manage_keys_members_or_the_workspace(client: Any, people: dict[str, Person],
                                                               method: str, path: str, body: Any) -> None:
    assert status(client, people["editor"], method, path, body) == 403
    assert status(client, people["admin"], method, path, body) in (200, 201)


def test_an_editor_cannot_change_or_remove_members(client: Any, people: dict[str, Person]) -> None:
    viewer = people["viewer"].user_id
    editor = Api(client, people["editor"].headers())
    assert editor.patch(f"/members/{viewer}", {"role": "editor"}).status_code == 403
    assert editor.delete(f"/members/{viewer}").status_code == 403


def test_a_client_sees_only_me(client: Any, people: dict[str, Person], workspace: Any) -> None:
    api = Api(client, people["client"].headers())
    me = api.get("/me")
    assert me.status_code == 200
    assert me.json["workspaces"] == [{"id": workspace.id, "name": "Acme", "role": "client", "agency_id": None,
                                      "through": "workspace"}]
    for path in ("/workspace", "/posts", "/channels", "/inbox/conversations", "/members", "/audit"):
        assert api.get(path).status_code == 403, path


def test_a_write_of_a_person_is_audited_with_the_person_as_actor(client: Any, people: dict[str, Person]) -> None:
    editor = people["editor"]
    made = Api(client, editor.headers()).post("/saved-replies", {"name": "Thanks", "text": "Thank you!"})
    assert made.status_code == 201
    entries = Api(client, people["owner"].headers()).get(f"/audit?object={made.json['id']}").json["items"]
    assert [(e["actor"], e["actor_role"]) for e in entries] == [(f"user:{editor.user_id}", "editor")]


def test_another_workspace_s_objects_are_not_found_with_a_person_s_token(
        client: Any, owner: Person, other_workspace: Any, clock: Any) -> None:
    theirs = Api(client, other_workspace.headers())
    channel = connect_sandbox(theirs, "Theirs")
    post = make_post(theirs, [channel["id"]], clock.now() + timedelta(days=1), text="Their post")
    mine = Api(client, owner.headers())
    for path in (f"/posts/{post['id']}", f"/channels/{channel['id']}"):
        answer = mine.get(path)
        assert answer.status_code == 404, path
        assert answer.json["error"]["code"] == "not_found"
    assert mine.delete(f"/posts/{post['id']}").status_code == 404
    assert theirs.get(f"/posts/{post['id']}").json["status"] == "scheduled"


def test_choosing_a_workspace_one_is_no_member_of_is_a_404(client: Any, owner: Person, other_workspace: Any) -> None:
    answer = Api(client, owner.headers(other_workspace.id)).get("/workspace")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def test_a_person_in_two_workspaces_says_which_with_the_header(client: Any, workspace: Any, owner: Person,
                                                               other_workspace: Any) -> None:
    invite_person(client, other_workspace.headers(), owner.email, "viewer")  # already a user: no new account
    unsaid = Api(client, owner.headers()).get("/workspace")
    assert unsaid.status_code == 400
    assert unsaid.json["error"]["code"] == "workspace_required"
    assert Api(client, owner.headers(workspace.id)).get("/workspace").json["id"] == workspace.id
    other = Api(client, owner.headers(other_workspace.id))
    assert other.get("/workspace").json["id"] == other_workspace.id
    assert other.patch("/workspace", {"name": "Mine now"}).status_code == 403  # a viewer there
    me = Api(client, owner.headers()).get("/me").json
    assert {(w["id"], w["role"]) for w in me["workspaces"]} == {(workspace.id, "owner"), (other_workspace.id, "viewer")}


def test_an_api_key_keeps_working_and_me_names_its_workspace(client: Any, workspace: Any) -> None:
    me = Api(client, workspace.headers("editor")).get("/me")
    assert me.status_code == 200
    assert me.json["auth"] == "api_key"
    assert me.json["user"] is None
    assert me.json["workspaces"][0]["id"] == workspace.id
    assert me.json["workspaces"][0]["role"] == "editor"
