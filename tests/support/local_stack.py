"""Start `python -m infra.local` as a subprocess, as a developer's shell would."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
import requests

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, within_s: float = 15.0) -> T:
    deadline = time.monotonic() + within_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within_s} s")
        time.sleep(0.05)


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (shlex.split(line)[0].split("=", 1) for line in path.read_text().splitlines() if line.strip())
    return {name: value for name, value in pairs}


@contextmanager
def local_stack(state_dir: Path, log_path: Path, ports: tuple[int, ...], app: str = "tests.local_app.app:app",
                ready_path: str = "/hello", extra_env: dict[str, str] | None = None,
                expect_returncode: int = 0) -> Iterator[str]:
    # As from a developer's shell: none of the test session's HERALD_* settings.
    env = {name: value for name, value in os.environ.items() if not name.startswith("HERALD_")}
    env.update({"HERALD_PORT": str(ports[0]), "HERALD_AWS_PORT": str(ports[1]), "HERALD_WORKERS": "2",
                **(extra_env or {})})
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "--app", app,
             "--state-dir", str(state_dir)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{ports[0]}"

    def answering() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the stack exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            return requests.get(f"{api}{ready_path}", timeout=1).ok
        except requests.ConnectionError:
            return False

    try:
        eventually(answering, "the local stack answering", within_s=60)
        yield api
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert returncode == expect_returncode, log_path.read_text()


def aws(env: dict[str, str], service: str) -> Any:
    return boto3.client(service, endpoint_url=env["HERALD_AWS_ENDPOINT_URL"],
                        region_name=env["AWS_DEFAULT_REGION"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
