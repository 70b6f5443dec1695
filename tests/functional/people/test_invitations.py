"""Invitations are mailed (through SES), single use, expiring and hashed at rest; members' roles change and
they leave, never leaving a workspace without an owner; API keys are made and revoked over HTTP, shown once."""
from __future__ import annotations

from typing import Any

import boto3

from chalicelib.people.tables import InvitationRecord
from tests.support.http import Api
from tests.support.people import PASSWORD, Person, accept, invite_person, mail_to, sign_in, token_mailed_to

ANONYMOUS = {"Content-Type": "application/json"}


def test_an_invitation_is_mailed_and_its_token_is_kept_only_as_a_hash(client: Any, owner: Person,
                                                                      deps: Any) -> None:
    made = Api(client, owner.headers()).post("/invitations", {"email": "Ed@Acme.test", "role": "editor"})
    assert made.status_code == 201
    assert (made.json["email"], made.json["role"], made.json["status"]) == ("ed@acme.test", "editor", "pending")
    assert made.json["invited_by"] == f"user:{owner.user_id}"
    [mail] = mail_to("ed@acme.test")
    assert (mail["from"], mail["subject"]) == ("herald@herald.test", "You are invited to Acme on Herald")
    token = token_mailed_to("ed@acme.test")
    assert "token" not in made.json and token not in str(made.json)
    stored = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=deps.settings.table("invitations"), Key={"invitation_id": {"S": made.json["id"]}})["Item"]
    assert token.split(".")[1] not in str(stored)
    assert InvitationRecord.get(made.json["id"]).secret_hash != token


def test_accepting_makes_the_account_and_the_membership_once(client: Any, owner: Person) -> None:
    Api(client, owner.headers()).post("/invitations", {"email": "ed@acme.test", "role": "editor"})
    token = token_mailed_to("ed@acme.test")
    anonymous = Api(client, ANONYMOUS)
    first = anonymous.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert first.status_code == 200
    assert (first.json["role"], first.json["kind"]) == ("editor", "workspace")
    again = anonymous.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert again.status_code == 404
    members = Api(client, owner.headers()).get("/members").json["items"]
    assert sorted((m["email"], m["role"]) for m in members) == [("ed@acme.test", "editor"),
                                                                 ("olivia@acme.test", "owner")]


def test_a_new_person_must_choose_a_password(client: Any, owner: Person) -> None:
    Api(client, owner.headers()).post("/invitations", {"email": "ed@acme.test", "role": "editor"})
    answer = Api(client, ANONYMOUS).post("/invitations/accept", {"token": token_mailed_to("ed@acme.test")})
    assert answer.status_code == 422


def test_an_invitation_expires_after_a_week(client: Any, owner: Person, clock: Any) -> None:
    Api(client, owner.headers()).post("/invitations", {"email": "ed@acme.test", "role": "editor"})
    clock.advance(days=7, seconds=1)
    answer = Api(client, ANONYMOUS).post("/invitations/accept",
                                         {"token": token_mailed_to("ed@acme.test"), "password": PASSWORD})
    assert answer.status_code == 404
    assert Api(client, ANONYMOUS).post("/auth/sign-in", {"email": "ed@acme.test",
                                                          "password": PASSWORD}).status_code == 401


def test_a_revoked_invitation_cannot_be_accepted_and_is_no_longer_listed(client: Any, owner: Person) -> None:
    api = Api(client, owner.headers())
    made = api.post("/invitations", {"email": "ed@acme.test", "role": "editor"}).json
    assert [i["id"] for i in api.get("/invitations").json["items"]] == [made["id"]]
    assert api.delete(f"/invitations/{made['id']}").status_code == 204
    assert api.get("/invitations").json["items"] == []
    answer = Api(client, ANONYMOUS).post("/invitations/accept",
                                         {"token": token_mailed_to("ed@acme.test"), "password": PASSWORD})
    assert answer.status_code == 404


def test_another_workspace_s_invitation_cannot_be_revoked(client: Any, owner: Person, other_workspace: Any) -> None:
    theirs = Api(client, other_workspace.headers()).post("/invitations", {"email": "x@rival.test",
                                                                         "role": "viewer"}).json
    assert Api(client, owner.headers()).delete(f"/invitations/{theirs['id']}").status_code == 404
    assert accept(client, "x@rival.test")["scope_id"] == other_workspace.id


def test_a_forged_token_is_not_found(client: Any, owner: Person) -> None:
    made = Api(client, owner.headers()).post("/invitations", {"email": "ed@acme.test", "role": "editor"}).json
    forged = f"inv_{made['id'].split('_', 1)[1]}.{'A' * 43}"
    answer = Api(client, ANONYMOUS).post("/invitations/accept", {"token": forged, "password": PASSWORD})
    assert answer.status_code == 404


def test_no_one_invites_above_their_own_role(client: Any, owner: Person) -> None:
    admin = invite_person(client, owner.headers(), "ad@acme.test", "admin")
    answer = Api(client, admin.headers()).post("/invitations", {"email": "boss@acme.test", "role": "owner"})
    assert answer.status_code == 403
    assert mail_to("boss@acme.test") == []
    assert Api(client, admin.headers()).post("/invitations", {"email": "ok@acme.test",
                                                               "role": "admin"}).status_code == 201


def test_roles_change_and_members_leave_but_never_the_last_owner(client: Any, owner: Person, workspace: Any) -> None:
    api = Api(client, owner.headers())
    ed = invite_person(client, owner.headers(), "ed@acme.test", "editor")
    changed = api.patch(f"/members/{ed.user_id}", {"role": "viewer"})
    assert (changed.status_code, changed.json["role"]) == (200, "viewer")
    assert Api(client, ed.headers()).post("/saved-replies", {"name": "n", "text": "t"}).status_code == 403

    last = api.delete(f"/members/{owner.user_id}")
    assert (last.status_code, last.json["error"]["code"]) == (409, "last_owner")
    assert api.patch(f"/members/{owner.user_id}", {"role": "admin"}).status_code == 409

    assert api.delete(f"/members/{ed.user_id}").status_code == 204
    assert Api(client, ed.headers(workspace.id)).get("/workspace").status_code == 404
    assert api.delete(f"/members/{ed.user_id}").status_code == 404


def test_an_admin_cannot_demote_or_remove_an_owner(client: Any, owner: Person) -> None:
    admin = invite_person(client, owner.headers(), "ad@acme.test", "admin")
    api = Api(client, admin.headers())
    assert api.patch(f"/members/{owner.user_id}", {"role": "viewer"}).status_code == 403
    assert api.delete(f"/members/{owner.user_id}").status_code == 403
    assert api.patch(f"/members/{admin.user_id}", {"role": "owner"}).status_code == 403


def test_an_existing_user_joins_another_workspace_without_a_new_password(client: Any, owner: Person,
                                                                         other_workspace: Any) -> None:
    Api(client, other_workspace.headers()).post("/invitations", {"email": owner.email, "role": "editor"})
    joined = accept(client, owner.email, password=None)
    assert (joined["user_id"], joined["scope_id"]) == (owner.user_id, other_workspace.id)
    assert sign_in(client, owner.email).user_id == owner.user_id


# -- API keys over HTTP ------------------------------------------------------------------------------

def test_a_key_made_over_http_is_shown_once_works_and_is_revoked(client: Any, owner: Person) -> None:
    api = Api(client, owner.headers())
    made = api.post("/api-keys", {"role": "editor", "name": "CI"})
    assert made.status_code == 201
    secret = made.json["api_key"]
    assert secret.startswith("hrld_")
    listed = api.get("/api-keys").json["items"]
    assert made.json["id"] in [k["id"] for k in listed]
    assert secret not in str(listed) and "api_key" not in listed[0]

    as_key = Api(client, {"Authorization": f"Bearer {secret}"})
    assert as_key.get("/workspace").status_code == 200
    assert api.delete(f"/api-keys/{made.json['id']}").status_code == 204
    assert as_key.get("/workspace").status_code == 401
    revoked = [k for k in api.get("/api-keys").json["items"] if k["id"] == made.json["id"]]
    assert revoked[0]["revoked_at"] is not None


def test_no_key_above_the_caller_s_role_and_no_client_key(client: Any, owner: Person, workspace: Any) -> None:
    admin = Api(client, workspace.headers("admin"))
    assert admin.post("/api-keys", {"role": "owner"}).status_code == 403
    assert admin.post("/api-keys", {"role": "admin"}).status_code == 201
    assert Api(client, owner.headers()).post("/api-keys", {"role": "client"}).status_code == 422


def test_another_workspace_s_key_cannot_be_revoked(client: Any, owner: Person, other_workspace: Any) -> None:
    theirs = Api(client, other_workspace.headers())
    key = theirs.post("/api-keys", {"role": "viewer"}).json
    assert Api(client, owner.headers()).delete(f"/api-keys/{key['id']}").status_code == 404
    assert Api(client, {"Authorization": f"Bearer {key['api_key']}"}).get("/workspace").status_code == 200


def test_the_audit_log_keeps_no_key_secret_and_names_the_person(client: Any, owner: Person) -> None:
    api = Api(client, owner.headers())
    made = api.post("/api-keys", {"role": "viewer"}).json
    entries = api.get(f"/audit?actor=user:{owner.user_id}").json["items"]
    assert any(e["action"] == "POST /api-keys" for e in entries)
    assert made["api_key"] not in str(entries)
