from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from chalicelib.core.errors import NotFound, Unauthorized, ValidationFailed

KEY = re.compile(r"hrld_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def raw_key_item(deps: Any, aws: dict[str, Any], key_id: str) -> dict[str, Any]:
    return aws["dynamodb"].get_item(TableName=deps.settings.table("api_keys"), Key={"key_id": {"S": key_id}})["Item"]


def test_a_new_workspace_comes_with_an_owner_key(deps):
    workspace, key = deps.access.create_workspace("Acme", "Europe/Paris")
    assert KEY.fullmatch(key.api_key)
    assert key.role == "owner"
    principal = deps.access.authenticate(bearer(key.api_key))
    assert (principal.workspace_id, principal.role, principal.key_id) == (workspace.workspace_id, "owner", key.key_id)
    assert deps.access.get_workspace(workspace.workspace_id).timezone == "Europe/Paris"


def test_keys_are_unique_and_carry_their_role(deps, workspace):
    keys = [deps.access.issue_key(workspace.id, role) for role in ("viewer", "viewer", "editor", "admin")]
    assert len({k.api_key for k in keys}) == len({k.key_id for k in keys}) == 4
    assert [deps.access.authenticate(bearer(k.api_key)).role for k in keys] == ["viewer", "viewer", "editor", "admin"]


def test_only_a_hash_of_the_secret_is_stored(deps, aws, workspace):
    issued = deps.access.issue_key(workspace.id, "editor", name="CI")
    key_id, secret = KEY.fullmatch(issued.api_key).groups()
    item = raw_key_item(deps, aws, key_id)
    assert secret not in repr(item)
    assert item["secret_hash"]["S"] == hashlib.sha256(secret.encode()).hexdigest()
    assert (item["workspace_id"]["S"], item["role"]["S"], item["name"]["S"]) == (workspace.id, "editor", "CI")


def test_listing_keys_never_gives_their_secrets(deps, workspace):
    listed = deps.access.list_keys(workspace.id)
    assert len(listed) == 4
    secrets = [KEY.fullmatch(k).group(2) for k in workspace.keys.values()]
    assert not any(secret in repr(listed) for secret in secrets)


def test_a_revoked_key_is_refused_and_the_others_still_work(deps, workspace, clock):
    key_id = KEY.fullmatch(workspace.keys["editor"]).group(1)
    deps.access.revoke_key(workspace.id, key_id)
    with pytest.raises(Unauthorized):
        deps.access.authenticate(bearer(workspace.keys["editor"]))
    assert deps.access.authenticate(bearer(workspace.keys["viewer"])).role == "viewer"
    [revoked] = [k for k in deps.access.list_keys(workspace.id) if k.key_id == key_id]
    assert revoked.revoked_at == "2026-03-02T09:00:00Z"


def test_a_key_cannot_be_revoked_through_another_workspace(deps, workspace, other_workspace):
    key_id = KEY.fullmatch(workspace.keys["owner"]).group(1)
    with pytest.raises(NotFound):
        deps.access.revoke_key(other_workspace.id, key_id)
    assert deps.access.authenticate(bearer(workspace.keys["owner"])).workspace_id == workspace.id


def test_revoking_an_unknown_key_is_not_found(deps, workspace):
    with pytest.raises(NotFound):
        deps.access.revoke_key(workspace.id, "0123456789abcdef")


def test_a_missing_malformed_or_unknown_key_is_unauthorized(deps, workspace):
    for header in ({}, {"authorization": ""}, {"authorization": "Token abc"},
                   {"authorization": "Bearer hrld_0123456789abcdef_" + "x" * 43},
                   {"authorization": "Bearer hrld_0123456789abcdef_short"}, {"authorization": "Bearer " + "y" * 64}):
        with pytest.raises(Unauthorized):
            deps.access.authenticate(header)


def test_a_known_key_id_with_another_secret_is_unauthorized(deps, workspace):
    key_id = KEY.fullmatch(workspace.keys["owner"]).group(1)
    with pytest.raises(Unauthorized):
        deps.access.authenticate(bearer(f"hrld_{key_id}_{'z' * 43}"))


def test_a_role_that_does_not_exist_is_refused(deps, workspace):
    with pytest.raises(ValidationFailed):
        deps.access.issue_key(workspace.id, "superuser")


def test_a_key_for_a_workspace_that_does_not_exist_is_refused(deps):
    with pytest.raises(NotFound):
        deps.access.issue_key("ws_missing", "viewer")


def test_a_workspace_needs_a_real_time_zone(deps):
    with pytest.raises(ValidationFailed) as caught:
        deps.access.create_workspace("Acme", "Mars/Olympus_Mons")
    assert caught.value.details[0]["field"] == "timezone"


def test_the_feed_token_is_stable_until_rotated_or_revoked(deps, workspace):
    token = deps.access.feed_token(workspace.id)
    assert deps.access.feed_token(workspace.id) == token
    assert deps.access.workspace_for_feed(token).workspace_id == workspace.id
    rotated = deps.access.feed_token(workspace.id, rotate=True)
    assert rotated != token
    with pytest.raises(NotFound):
        deps.access.workspace_for_feed(token)
    deps.access.revoke_feed(workspace.id)
    with pytest.raises(NotFound):
        deps.access.workspace_for_feed(rotated)
