"""The environment the app runs with locally, and `.local/env`, which lets the command line find the stack."""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from chalicelib.core.settings import QUEUES, TABLES, queue_env_var, resource_name, table_env_var
from infra.local.state_files import write_atomically

STAGE = "local"


@dataclass(frozen=True)
class LocalOptions:
    host: str
    port: int
    aws_port: int
    state_dir: Path
    app_spec: str
    region: str
    workers: int
    # Tables and buckets are saved this often (each save reads them whole), and on exit; 0: on exit only.
    save_every_s: float = 2.0
    # Where to write the DynamoDB write counts on exit (infra/local/dynamodb_meter.py); None: not counted.
    dynamodb_meter: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def aws_endpoint_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"


def app_environment(options: LocalOptions) -> dict[str, str]:
    """Variables set in this process before the app is imported, and written to `.local/env`."""
    env = {
        "HERALD_STAGE": STAGE,
        "HERALD_API_URL": options.api_url,
        "HERALD_PUBLIC_BASE_URL": options.api_url,
        # The stack serves the console at `/` (infra/local/console_files.py): emailed links open it there.
        "HERALD_CONSOLE_URL": options.api_url,
        "HERALD_AWS_ENDPOINT_URL": options.aws_endpoint_url,
        # Dummy credentials: nothing the local stack runs can reach a real AWS account.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": options.region,
        "AWS_REGION": options.region,
        "HERALD_KMS_KEY_ID": f"alias/herald-{STAGE}",
        "HERALD_MEDIA_BUCKET": resource_name(STAGE, "media"),
        # The emulated DynamoDB serves one request at a time (infra/moto_atomic.py): a tick writing from
        # eight threads at once would hold the workers publishing at that second back by up to a second.
        "HERALD_TICK_THREADS": os.environ.get("HERALD_TICK_THREADS", "2"),
    }
    env.update({table_env_var(table): resource_name(STAGE, table) for table in TABLES})
    env.update({queue_env_var(queue): resource_name(STAGE, queue) for queue in QUEUES})
    return env


# A profile or session token from the developer's shell would override the dummy credentials.
UNSET_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL")


def write_env_file(path: Path, env: dict[str, str]) -> None:
    lines = [f"{name}={shlex.quote(value)}" for name, value in sorted(env.items())]
    write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"))
