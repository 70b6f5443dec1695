"""The command line, run in-process against the emulated AWS the test installed.

An empty env file stands for `.local/env`: the command line reads it (nothing to
set) and uses the container the `deps` fixture installed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.cli import main
from tests.support.http import Api


@pytest.fixture
def env_file(tmp_path: Path) -> str:
    path = tmp_path / "env"
    path.write_text("")
    return str(path)


def run(capsys: Any, env_file: str, *args: str) -> tuple[int, Any, str]:
    code = main(["--env-file", env_file, *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_create_workspace_prints_its_id_and_a_working_owner_key(deps, client, capsys, env_file):
    code, printed, _ = run(capsys, env_file, "create-workspace", "--name", "Acme", "--timezone", "Europe/Paris")
    assert code == 0
    assert set(printed) == {"workspace_id", "api_key"}
    workspace = Api(client, {"Authorization": f"Bearer {printed['api_key']}"}).get("/workspace").json
    assert (workspace["id"], workspace["name"], workspace["timezone"]) \
        == (printed["workspace_id"], "Acme", "Europe/Paris")


def test_create_workspace_defaults_to_utc(deps, capsys, env_file):
    _, printed, _ = run(capsys, env_file, "create-workspace", "--name", "Acme")
    assert deps.access.get_workspace(printed["workspace_id"]).timezone == "UTC"


def test_a_bad_time_zone_exits_with_the_error_as_json(deps, capsys, env_file):
    code, printed, err = run(capsys, env_file, "create-workspace", "--name", "Acme", "--timezone", "Nowhere/City")
    assert code == 1
    assert printed is None
    assert json.loads(err)["error"]["details"][0]["field"] == "timezone"


def test_keys_can_be_made_listed_and_revoked(deps, client, capsys, env_file, workspace):
    _, made, _ = run(capsys, env_file, "create-api-key", "--workspace-id", workspace.id, "--role", "viewer",
                     "--name", "Dashboard")
    assert made["role"] == "viewer"
    viewer = Api(client, {"Authorization": f"Bearer {made['api_key']}"})
    assert viewer.get("/workspace").status_code == 200

    _, listed, _ = run(capsys, env_file, "list-api-keys", "--workspace-id", workspace.id)
    assert made["key_id"] in [k["key_id"] for k in listed["items"]]
    assert made["api_key"].rsplit("_", 1)[1] not in json.dumps(listed)

    code, revoked, _ = run(capsys, env_file, "revoke-api-key", "--workspace-id", workspace.id,
                           "--key-id", made["key_id"])
    assert (code, revoked) == (0, {"key_id": made["key_id"], "revoked": True})
    assert viewer.get("/workspace").status_code == 401


def test_without_a_running_stack_it_says_how_to_start_one(deps, tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["--env-file", str(tmp_path / "missing"), "create-workspace", "--name", "Acme"])
    assert "make run" in str(exited.value.code)


@pytest.mark.parametrize("timezone", ["localtime", "posixrules", "Factory", "A" * 10_000, "europe/paris"])
def test_create_workspace_takes_the_apis_time_zone_rule(deps, capsys, env_file, timezone):
    code, printed, err = run(capsys, env_file, "create-workspace", "--name", "Acme", "--timezone", timezone)
    assert (code, printed) == (1, None)
    assert [d["field"] for d in json.loads(err)["error"]["details"]] == ["timezone"]
    assert len(err) < 1000  # the answer names the zone without repeating 10,000 characters


@pytest.mark.parametrize("name", ["   ", "Acme\nInc", "Bell\x07", "a" * 101])
def test_create_workspace_takes_the_apis_name_rule(deps, capsys, env_file, name):
    code, printed, err = run(capsys, env_file, "create-workspace", "--name", name)
    assert (code, printed) == (1, None)
    assert [d["field"] for d in json.loads(err)["error"]["details"]] == ["name"]


def test_create_workspace_strips_the_name(deps, capsys, env_file):
    _, printed, _ = run(capsys, env_file, "create-workspace", "--name", "  Acme  ")
    assert deps.access.get_workspace(printed["workspace_id"]).name == "Acme"
