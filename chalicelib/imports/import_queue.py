"""Messages to the post_imports queue: `{workspace_id, import_id}`, one per chunk of an import. The import's
row says where it is; a duplicate message finds its chunk done (progress is saved conditionally)."""
from __future__ import annotations

import json
from typing import Any


def step_body(workspace_id: str, import_id: str) -> str:
    return json.dumps({"workspace_id": workspace_id, "import_id": import_id}, separators=(",", ":"))


def parse_step(body: str) -> tuple[str, str]:
    data = json.loads(body)
    return str(data["workspace_id"]), str(data["import_id"])


class ImportQueue:
    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def send(self, workspace_id: str, import_id: str) -> None:
        self._sqs.send_message(QueueUrl=self.url, MessageBody=step_body(workspace_id, import_id))
