"""Herald's command line. It acts on the running local stack (found through
`.local/env`, written by `make run`) or, with `--stage`, on a deployed stage
using that stage's settings from .chalice/config.json and your AWS credentials.

    python -m chalicelib.cli create-workspace --name NAME [--timezone TZ]
    python -m chalicelib.cli create-api-key --workspace-id WS --role editor
    python -m chalicelib.cli revoke-api-key --workspace-id WS --key-id KEY_ID
    python -m chalicelib.cli list-api-keys --workspace-id WS
    python -m chalicelib.cli run-job NAME [--date YYYY-MM-DD]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def load_environment(stage: str | None, env_file: Path) -> None:
    """Settings come from the environment; fill it before anything reads it."""
    if stage:
        config = json.loads((ROOT / ".chalice" / "config.json").read_text())
        merged = {**config.get("environment_variables", {}),
                  **config["stages"][stage].get("environment_variables", {})}
        for name, value in merged.items():
            os.environ.setdefault(name, str(value))
        return
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                name, _, value = line.partition("=")
                name = name.removeprefix("export ").strip()
                os.environ.setdefault(name, shlex.split(value)[0] if value.strip() else "")
    elif not os.environ.get("HERALD_AWS_ENDPOINT_URL"):
        raise SystemExit(f"No {env_file}: start the local stack with `make run`, or pass --stage.")


def run_job(name: str, date: str | None) -> Any:
    from chalicelib.core.jobs import run_job_by_name

    return run_job_by_name(name, date)


def _workspace_to_create(name: str, timezone: str) -> Any:
    """The same rules as the API's: a one-line name, an IANA zone (chalicelib/core/fields.py)."""
    from pydantic import ValidationError

    from chalicelib.accounts.schemas import WorkspaceCreate
    from chalicelib.core.api import validation_details
    from chalicelib.core.errors import ValidationFailed

    try:
        return WorkspaceCreate.model_validate({"name": name, "timezone": timezone})
    except ValidationError as exc:
        details = validation_details(exc)
        raise ValidationFailed("; ".join(f"{d['field']}: {d['message']}" for d in details),
                               details=details) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", help="act on a deployed stage instead of the local stack")
    parser.add_argument("--env-file", default=str(ROOT / ".local" / "env"), help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-workspace", help="make a workspace and its first owner key")
    create.add_argument("--name", required=True)
    create.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Europe/Paris")
    key = commands.add_parser("create-api-key", help="make another key for a workspace")
    key.add_argument("--workspace-id", required=True)
    key.add_argument("--role", default="editor", choices=["owner", "admin", "editor", "viewer"])
    key.add_argument("--name")
    revoke = commands.add_parser("revoke-api-key", help="stop a key from working")
    revoke.add_argument("--workspace-id", required=True)
    revoke.add_argument("--key-id", required=True)
    keys = commands.add_parser("list-api-keys", help="list a workspace's keys (never their secrets)")
    keys.add_argument("--workspace-id", required=True)
    job = commands.add_parser("run-job", help="run one scheduled job once")
    job.add_argument("name", help="tick, nightly-metrics, ...")
    job.add_argument("--date", help="YYYY-MM-DD, for jobs that work on one day")
    args = parser.parse_args(argv)

    load_environment(args.stage, Path(args.env_file))
    from chalicelib.core.errors import ApiError
    from chalicelib.wiring import container

    access = container().access
    try:
        if args.command == "create-workspace":
            from chalicelib.accounts.admin import create_workspace

            wanted = _workspace_to_create(args.name, args.timezone)
            result: Any = create_workspace(wanted.name, wanted.timezone)
        elif args.command == "create-api-key":
            issued = access.issue_key(args.workspace_id, args.role, args.name)
            result = {"key_id": issued.key_id, "api_key": issued.api_key, "role": issued.role}
        elif args.command == "revoke-api-key":
            access.revoke_key(args.workspace_id, args.key_id)
            result = {"key_id": args.key_id, "revoked": True}
        elif args.command == "list-api-keys":
            result = {"items": [{"key_id": k.key_id, "role": k.role, "name": k.name, "created_at": k.created_at,
                                 "revoked_at": k.revoked_at} for k in access.list_keys(args.workspace_id)]}
        else:
            result = run_job(args.name, args.date)
    except ApiError as error:
        print(json.dumps(error.body()), file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
