"""Operator tasks shared by the command line and the local stack."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chalicelib.wiring import container


def create_workspace(name: str, timezone: str = "UTC") -> dict[str, str]:
    workspace, key = container().access.create_workspace(name, timezone)
    return {"workspace_id": workspace.workspace_id, "api_key": key.api_key}


def ensure_demo_workspace(state_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Makes the demo workspace once; later starts reuse its key."""
    state = Path(state_dir)
    key_file, info_file = state / "api-key", state / "demo-workspace.json"
    if key_file.exists() and info_file.exists():
        info = json.loads(info_file.read_text())
        if container().workspace_repository.get(info["workspace_id"]) is not None:
            return {**info, "api_key_file": str(key_file), "created": False}
    created = create_workspace("Demo workspace", os.environ.get("HERALD_DEMO_TIMEZONE", "UTC"))
    state.mkdir(parents=True, exist_ok=True)
    key_file.write_text(created["api_key"] + "\n")
    key_file.chmod(0o600)
    info_file.write_text(json.dumps({"workspace_id": created["workspace_id"]}))
    return {"workspace_id": created["workspace_id"], "api_key": created["api_key"],
            "api_key_file": str(key_file), "created": True}
