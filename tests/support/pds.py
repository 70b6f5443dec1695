"""A real Bluesky PDS (and PLC directory) on 127.0.0.1 for integration tests.

`tests/integration/pds/start.js` runs the reference `@atproto/pds`; this module starts it as a subprocess,
waits for its ready line and speaks a few com.atproto.* calls to it the way a test needs.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import requests

HARNESS_DIR = Path(__file__).resolve().parent.parent / "integration" / "pds"


class PdsStartError(RuntimeError):
    """The PDS harness did not come up; the message carries its stderr."""


def node_executable() -> str | None:
    return shutil.which("node")


def install_harness() -> None:
    """Run install.sh (a no-op when node_modules already matches the lockfile)."""
    result = subprocess.run(
        ["bash", str(HARNESS_DIR / "install.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PdsStartError(f"tests/integration/pds/install.sh failed:\n{result.stdout}\n{result.stderr}")


class LocalPds:
    def __init__(self, *, start_timeout_s: float = 60.0, pds_port: int = 0, plc_port: int = 0) -> None:
        self.start_timeout_s = start_timeout_s
        self.pds_port = pds_port
        self.plc_port = plc_port
        self.url = ""
        self.plc_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._http = requests.Session()

    def __enter__(self) -> LocalPds:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def start(self) -> LocalPds:
        node = node_executable()
        if node is None:
            raise PdsStartError("node is not on PATH")
        if not (HARNESS_DIR / "node_modules").is_dir():
            raise PdsStartError("the PDS harness is not installed: run tests/integration/pds/install.sh")
        # stderr goes to a file: a pipe nobody reads could fill up and stall the server.
        self._stderr = tempfile.TemporaryFile(mode="w+", prefix="herald-pds-stderr-")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [node, "start.js", "--pds-port", str(self.pds_port), "--plc-port", str(self.plc_port),
             "--stop-on-stdin-close"],
            cwd=HARNESS_DIR,
            stdin=subprocess.PIPE,  # closes when this process ends, however it ends
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ},
        )
        ready = self._wait_for_ready_line()
        self.url = ready["pds_url"]
        self.plc_url = ready["plc_url"]
        return self

    def _wait_for_ready_line(self) -> dict[str, str]:
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        stdout = self._process.stdout

        def read_lines() -> None:
            for line in stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read_lines, name="pds-stdout", daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=self.start_timeout_s)
            except queue.Empty:
                self.stop()
                raise PdsStartError(f"the PDS did not report ready within {self.start_timeout_s:.0f} s") from None
            if line is None:
                code = self._process.wait()
                message = f"the PDS exited with status {code} before it was ready:\n{self._stderr_text()}"
                self.stop()
                raise PdsStartError(message)
            line = line.strip()
            if line.startswith("{") and "pds_url" in line:
                return json.loads(line)

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-4000:]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._http.close()

    def _xrpc(self, method: str, nsid: str, **kwargs: Any) -> requests.Response:
        response = self._http.request(method, f"{self.url}/xrpc/{nsid}", timeout=10, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{nsid} answered {response.status_code}: {response.text}")
        return response

    def create_account(self, handle: str, password: str, email: str | None = None) -> dict[str, Any]:
        """com.atproto.server.createAccount; returns did, handle, accessJwt, refreshJwt, didDoc."""
        body = {"handle": handle, "password": password, "email": email or f"{handle.split('.')[0]}@example.com"}
        return self._xrpc("POST", "com.atproto.server.createAccount", json=body).json()

    def create_session(self, identifier: str, password: str) -> dict[str, Any]:
        body = {"identifier": identifier, "password": password}
        return self._xrpc("POST", "com.atproto.server.createSession", json=body).json()

    def create_record(self, access_jwt: str, repo: str, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        body = {"repo": repo, "collection": collection, "record": record}
        headers = {"Authorization": f"Bearer {access_jwt}"}
        return self._xrpc("POST", "com.atproto.repo.createRecord", json=body, headers=headers).json()

    def get_record(self, repo: str, collection: str, rkey: str) -> dict[str, Any]:
        """com.atproto.repo.getRecord: `{"uri", "cid", "value"}`."""
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        return self._xrpc("GET", "com.atproto.repo.getRecord", params=params).json()

    def list_records(self, repo: str, collection: str) -> list[dict[str, Any]]:
        params = {"repo": repo, "collection": collection, "limit": 100}
        return self._xrpc("GET", "com.atproto.repo.listRecords", params=params).json()["records"]

    def get_blob(self, did: str, cid: str) -> bytes:
        return self._xrpc("GET", "com.atproto.sync.getBlob", params={"did": did, "cid": cid}).content
