"""A CSV import the way a user runs one: announce it, PUT the file to the presigned URL, start it; then the
import worker Lambda fed by the post_imports queue, as Lambda's documented SQS event, until it is empty."""
from __future__ import annotations

from typing import Any

import requests

from tests.support.events import load_event
from tests.support.http import Api


def announce(api: Api, data: bytes, mode: str = "valid_rows", filename: str = "posts.csv") -> dict[str, Any]:
    response = api.post("/posts/imports", {"filename": filename, "size": len(data), "mode": mode})
    assert response.status_code == 201, response.body
    return dict(response.json)


def upload(announced: dict[str, Any], data: bytes) -> None:
    answer = requests.put(announced["upload_url"], data=data, headers=announced["upload_headers"], timeout=10)
    assert answer.status_code == 200, answer.text


def run_imports(deps: Any) -> int:
    """Plays the queued import steps into the worker until none is left; returns how many ran."""
    from chalicelib.imports.import_jobs import import_worker

    sqs = deps.client("sqs")
    url = sqs.get_queue_url(QueueName=deps.settings.queue("post_imports"))["QueueUrl"]
    [documented, *_] = load_event("aws", "lambda_sqs_event.json")["Records"]
    for ran in range(100):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            return ran
        [message] = messages
        record = {**documented, "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                  "body": message["Body"]}
        answer = import_worker({"Records": [record]}, None)
        assert answer["batchItemFailures"] == [], answer
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the import queue never drained")


def import_csv(api: Api, deps: Any, data: bytes, mode: str = "valid_rows") -> dict[str, Any]:
    announced = announce(api, data, mode)
    upload(announced, data)
    started = api.post(f"/posts/imports/{announced['id']}/start")
    assert started.status_code == 202, started.body
    run_imports(deps)
    answer = api.get(f"/posts/imports/{announced['id']}")
    assert answer.status_code == 200, answer.body
    return dict(answer.json)
