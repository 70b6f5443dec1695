"""The local stack (`python -m infra.local`) in a subprocess, for one bench: free ports, its own state
directory, DynamoDB writes counted (infra/local/dynamodb_meter.py), its log kept next to its state.

A subprocess, not threads of the bench: the stack gets an interpreter (and a GIL) of its own, as a Lambda
function would, and the bench's own HTTP traffic does not slow it down.
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from infra.local.ports import free_ports

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("bench")


class LocalStackProcess:
    def __init__(self, state_dir: Path, workers: int = 4, app: str = "app:app",
                 extra_env: dict[str, str] | None = None) -> None:
        self.state_dir = state_dir
        self.workers = workers
        self.app = app
        self.extra_env = dict(extra_env or {})
        api_port, aws_port = free_ports(2)
        self.api_url = f"http://127.0.0.1:{api_port}"
        self.aws_endpoint_url = f"http://127.0.0.1:{aws_port}"
        self.log_path = state_dir / "stack.log"
        self.meter_path = state_dir / "dynamodb-writes.json"
        self._ports = (api_port, aws_port)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def api_key(self) -> str:
        """The owner key of the demo workspace the stack makes at its first start."""
        return (self.state_dir / "api-key").read_text().strip()

    def start(self, ready_within_s: float = 90.0) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # As from a developer's shell: none of the caller's HERALD_* settings leak in.
        env = {name: value for name, value in os.environ.items() if not name.startswith("HERALD_")}
        env.update({"HERALD_PORT": str(self._ports[0]), "HERALD_AWS_PORT": str(self._ports[1]),
                    "HERALD_WORKERS": str(self.workers), "HERALD_LOCAL_DYNAMODB_METER": str(self.meter_path),
                    **self.extra_env})
        with self.log_path.open("ab") as out:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "infra.local", "--app", self.app, "--state-dir", str(self.state_dir)],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + ready_within_s
        while not self._answering():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local stack did not answer within {ready_within_s:.0f} s; "
                                   f"see {self.log_path}")
            time.sleep(0.2)
        log.info("Local stack up: API %s, AWS %s, %d workers, state in %s", self.api_url,
                 self.aws_endpoint_url, self.workers, self.state_dir)

    def _answering(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {self._process.returncode}; see {self.log_path}")
        try:
            return requests.get(f"{self.api_url}/health", timeout=1).ok
        except requests.RequestException:
            return False

    def stop(self, within_s: float = 60.0) -> None:
        """Stop as Ctrl-C does (the write counts are saved on the way out)."""
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=within_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise RuntimeError(f"the local stack did not stop within {within_s:.0f} s; "
                                   f"see {self.log_path}") from None
        if process.returncode != 0:
            raise RuntimeError(f"the local stack exited with {process.returncode}; see {self.log_path}")

    def aws_client(self, service: str) -> Any:
        """A boto3 client for the stack's AWS emulation (its dummy credentials)."""
        import boto3

        env = self.environment()
        return boto3.client(service, endpoint_url=self.aws_endpoint_url, region_name=env["AWS_DEFAULT_REGION"],
                            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])

    def environment(self) -> dict[str, str]:
        """What the stack wrote to `<state dir>/env`: its resource names, region and dummy credentials."""
        lines = (self.state_dir / "env").read_text().splitlines()
        pairs = (shlex.split(line)[0].split("=", 1) for line in lines if line.strip())
        return {name: value for name, value in pairs}

    def dynamodb_writes(self) -> list[dict[str, Any]]:
        """What the write meter counted, per table and operation (readable once the stack has stopped)."""
        return json.loads(self.meter_path.read_text())["writes"]

    def __enter__(self) -> LocalStackProcess:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
