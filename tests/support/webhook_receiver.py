"""A customer's webhook endpoint on 127.0.0.1 (what receives Herald's signed events), and the queue played into
the sender Lambda as SQS would."""
from __future__ import annotations

from typing import Any

from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route
from tests.support.events import load_event


class WebhookReceiver(LocalHttpFake):
    """Answers 204 to `POST /hooks/<name>`, or the statuses queued with `answer_next`."""

    name = "webhook-receiver"

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []

    def routes(self) -> list[Route]:
        return [("POST", r"/hooks/[a-z0-9-]+", self._receive)]

    def answer_next(self, *statuses: int) -> None:
        self.statuses.extend(statuses)

    def _receive(self, request: Request) -> Answer:
        status = self.statuses.pop(0) if self.statuses else 204
        return Answer(status, {"ok": status < 300})

    def hook(self, name: str = "herald") -> str:
        return f"{self.url}/hooks/{name}"

    def received(self) -> list[Request]:
        return self.calls("POST", r"/hooks/.*")


def queued_attempts(deps: Any) -> list[str]:
    sqs = deps.client("sqs")
    url = sqs.get_queue_url(QueueName=deps.settings.queue("webhook_deliveries"))["QueueUrl"]
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def run_sender(bodies: list[str]) -> dict[str, Any]:
    """The sender Lambda on these bodies, as one SQS batch shaped as Lambda's documented event."""
    from chalicelib.outbound_webhooks.endpoint_jobs import webhook_sender

    [documented, *_] = load_event("aws", "lambda_sqs_event.json")["Records"]
    records = [{**documented, "messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body}
               for i, body in enumerate(bodies)]
    return webhook_sender({"Records": records}, None)


def drain_webhooks(deps: Any) -> int:
    """Plays the visible messages into the sender until none is left; returns how many ran. Delayed ones (a
    retry's wait) stay in SQS: a test advances its clock and runs the sweeper for them."""
    ran = 0
    for _round in range(10):
        bodies = queued_attempts(deps)
        if not bodies:
            return ran
        answer = run_sender(bodies)
        assert answer["batchItemFailures"] == [], answer
        ran += len(bodies)
    raise AssertionError("the webhook queue never drained")


def sweep(deps: Any) -> int:
    from chalicelib.outbound_webhooks.endpoint_jobs import sweep_webhook_deliveries

    return int(sweep_webhook_deliveries(load_event("aws", "eventbridge_scheduled_event.json"), None)["queued"])
