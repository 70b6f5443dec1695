"""Each function's role in the packaged template allows every AWS call that function makes.

Runs on the template stack only (tests/functional/api/test_template_stack.py starts it): the API, the tick
and the worker are driven through their Lambda handlers over the flows that touch every table, index,
queue, the key and the bucket, and each call moto records is checked against that function's role.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import requests
from moto.moto_api import recorder

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.settings import get_settings
from tests.support.access_check import ACCOUNT_ID, Call, calls_in, denied
from tests.support.http import Api
from tests.support.template_stack import TEMPLATE_VARIABLE

pytestmark = pytest.mark.skipif(not os.environ.get(TEMPLATE_VARIABLE),
                                reason="runs on the template stack, from test_template_stack.py")


@pytest.fixture
def template() -> dict[str, Any]:
    with open(os.environ[TEMPLATE_VARIABLE]) as template_file:
        return json.load(template_file)


@pytest.fixture
def arns(aws: dict[str, Any], template_stack: tuple[Any, str]) -> dict[str, str]:
    """Logical id → ARN of what moto's CloudFormation made; `<table's logical id>.StreamArn` → its stream's."""
    cloudformation, _body = template_stack
    found = {}
    stack = f"herald-{get_settings().stage}"
    for resource in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]:
        logical_id, physical = resource["LogicalResourceId"], resource["PhysicalResourceId"]
        kind = resource["ResourceType"]
        if kind == "AWS::DynamoDB::Table":
            table = aws["dynamodb"].describe_table(TableName=physical)["Table"]
            found[logical_id] = table["TableArn"]
            if table.get("LatestStreamArn"):
                found[f"{logical_id}.StreamArn"] = table["LatestStreamArn"]
        elif kind == "AWS::SQS::Queue":
            found[logical_id] = aws["sqs"].get_queue_attributes(
                QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        elif kind == "AWS::KMS::Key":
            # Not describe_key: moto's CloudFormation stores the key policy as describe_key cannot read it.
            found[logical_id] = f"arn:aws:kms:{get_settings().region}:{ACCOUNT_ID}:key/{physical}"
        elif kind == "AWS::S3::Bucket":
            found[logical_id] = f"arn:aws:s3:::{physical}"
    return found


class Recording:
    def __init__(self, aws: dict[str, Any], arns: dict[str, str]) -> None:
        settings = get_settings()
        self.region = settings.region
        [key_arn] = [arn for arn in arns.values() if arn.startswith("arn:aws:kms:")]
        self.key_arns = {settings.kms_key_id: key_arn, key_arn: key_arn,
                         key_arn.rsplit("/", 1)[1]: key_arn}
        self.queue_arns = {arn.rsplit(":", 1)[1]: arn for arn in arns.values()
                           if arn.startswith("arn:aws:sqs")}
        self.calls: dict[str, list[Call]] = {}

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        recorder.reset_recording()
        recorder.start_recording()
        try:
            yield
        finally:
            recorder.stop_recording()
            recorded = calls_in(recorder.download_recording(), self.region, self.key_arns, self.queue_arns)
            self.calls.setdefault(function, []).extend(recorded)


@pytest.fixture
def recording(aws: dict[str, Any], arns: dict[str, str]) -> Iterator[Recording]:
    yield Recording(aws, arns)
    recorder.stop_recording()
    recorder.reset_recording()


def statements_for(template: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    role = template["Resources"][template["Resources"][logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]]
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def run_worker(client: Any, aws: dict[str, Any], recording: Recording) -> list[Any]:
    """What the SQS event source does with the worker's role: receive, invoke, delete what succeeded."""
    queue_url = aws["sqs"].get_queue_url(QueueName=get_settings().queue("publish"))["QueueUrl"]
    answers = []
    with recording.acting_as("publish_worker"):
        received = aws["sqs"].receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    if not received:
        return answers
    event = client.events.generate_sqs_event([m["Body"] for m in received], get_settings().queue("publish"))
    with recording.acting_as("publish_worker"):
        answers.append(client.lambda_.invoke("publish_worker", event).payload)
        aws["sqs"].delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)])
    return answers


def stream_consumers(table_logical_id: str, arns: dict[str, str]) -> list[tuple[str, str]]:
    """(function name, logical id) of every function app.py feeds from this table's stream."""
    from app import app
    from infra.functions import app_functions, stream_table_name

    table = stream_table_name(arns[f"{table_logical_id}.StreamArn"])
    return [(function.name, function.logical_id) for function in app_functions(app)
            if function.kind == "stream" and function.stream_table == table]


def run_stream_consumer(function: str, table_logical_id: str, client: Any, arns: dict[str, str],
                        recording: Recording) -> list[Any]:
    """What Lambda's DynamoDB Streams event source does with the consumer's role: it is given the table's
    StreamArn (the template's Fn::GetAtt), reads each shard from its oldest record (DescribeStream,
    GetShardIterator, GetRecords) and invokes the function with each batch, as the template sets it up."""
    from infra.local.stream_poller import lambda_record
    from tests.support.streams import streams_client

    streams, stream_arn, answers = streams_client(), arns[f"{table_logical_id}.StreamArn"], []
    with recording.acting_as(function):
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator and (read := streams.get_records(ShardIterator=iterator, Limit=100))["Records"]:
                records = [lambda_record(r, stream_arn, get_settings().region) for r in read["Records"]]
                answers.append(client.lambda_.invoke(function, {"Records": records}).payload)
                iterator = read.get("NextShardIterator")
    return answers


def run_stream_consumers(table_logical_id: str, client: Any, arns: dict[str, str],
                         recording: Recording) -> list[tuple[str, str]]:
    """Runs every consumer of the table's stream under its role; each must take every batch."""
    consumers = stream_consumers(table_logical_id, arns)
    for name, _logical_id in consumers:
        answers = run_stream_consumer(name, table_logical_id, client, arns, recording)
        assert answers and all(answer == {"batchItemFailures": []} for answer in answers), name
    return consumers


def assert_allowed(recording: Recording, template: dict[str, Any], arns: dict[str, str],
                   functions: list[tuple[str, str]]) -> None:
    """Each (function, logical id) made calls, and its role allows every one."""
    for function, logical_id in functions:
        calls = recording.calls[function]
        assert calls, function
        assert denied(calls, statements_for(template, logical_id), arns) == [], function


def assert_needs_each_action(calls: list[Call], statements: list[dict[str, Any]], arns: dict[str, str]) -> None:
    """Every action the function used is one its role must grant: without it, exactly those calls are denied."""
    for action in sorted({call.action for call in calls}):
        fewer = [{**statement, "Action": [a for a in statement["Action"] if a != action]}
                 for statement in statements]
        assert {call.action for call in denied(calls, fewer, arns)} == {action}, action


def test_each_function_is_allowed_every_call_it_makes(template, client, deps, workspace, clock, aws, arns,
                                                      recording) -> None:
    api = Api(client, workspace.headers())
    with recording.acting_as("api_handler"):
        ok = api.post("/channels", {"network": "sandbox", "name": "Fine", "credentials": {"token": "t"}}).json["id"]
        flaky = api.post("/channels", {"network": "sandbox", "name": "Flaky",
                                       "settings": {"fail": "500", "fail_times": 1}}).json["id"]
        revoked = api.post("/channels", {"network": "sandbox", "name": "Revoked", "settings": {"fail": "auth"}})
        upload = api.post("/media", {"filename": "a.png", "mime": "image/png", "size": 4}).json
        # The browser's upload acts with the permissions of the API function that signed the URL.
        assert requests.put(upload["upload_url"], data=b"\x89PNG", headers=upload["upload_headers"]).ok
        assert api.get(f"/media/{upload['id']}").json["status"] == "uploaded"
        later = to_rfc3339(clock.now() + timedelta(seconds=150))  # past this minute's tick: the next queues it
        api.post("/posts", {"text": "Later", "channel_ids": [ok], "publish_at": later})
        now = api.post("/posts", {"text": "Now", "channel_ids": [ok, flaky, revoked.json["id"]],
                                  "media": [{"media_id": upload["id"]}], "status": "draft"}).json["id"]
        assert api.post(f"/posts/{now}/publish-now", {}).status_code == 200
        for path in ("/posts?status=scheduled", f"/posts?channel_id={ok}", "/posts", "/calendar?month=2026-03",
                     "/channels", "/workspace", f"/channels/{ok}/sandbox/posts"):
            assert api.get(path).status_code == 200, path
        feed = api.post("/workspace/calendar-feed").json["url"]
        assert client.http.get(feed.removeprefix("http://herald.test")).status_code == 200
        api.patch(f"/channels/{ok}", {"credentials": {"token": "new"}})
    with recording.acting_as("tick"):
        clock.set(clock.now() + timedelta(seconds=60))
        event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
        assert client.lambda_.invoke("tick", event).payload["units"] == deps.settings.due_shards
    assert run_tick_workers(client, aws, recording) == deps.settings.due_shards
    answers = run_worker(client, aws, recording) + run_worker(client, aws, recording)
    assert answers and all(answer == {"batchItemFailures": []} for answer in answers)
    assert api.get(f"/channels/{revoked.json['id']}").json["status"] == "needs_reauth"
    # The outcomes are counted off the publish path, from the posts table's stream (count_outcomes).
    consumers = run_stream_consumers("PostsTable", client, arns, recording)
    assert [name for name, _logical_id in consumers] == ["count_outcomes"]
    with recording.acting_as("api_handler"):
        first, last = clock.now().date() - timedelta(days=1), clock.now().date() + timedelta(days=1)
        days = api.get(f"/metrics/daily?from={first}&to={last}&channel_id={ok}").json["days"]
    assert sum(day["posts_published"] for day in days) == 1, days  # "Now" (the "Later" post is not due yet)

    assert_allowed(recording, template, arns, [("api_handler", "APIHandler"), ("tick", "Tick"),
                                               ("tick_worker", "TickWorker"), ("publish_worker", "PublishWorker"),
                                               *consumers])
    for name, logical_id in consumers:
        assert_needs_each_action(recording.calls[name], statements_for(template, logical_id), arns)
    assert {call.action for call in recording.calls["tick"]} == {"sqs:GetQueueUrl", "sqs:SendMessage"}
    assert {call.action for call in recording.calls["tick_worker"]} >= {"dynamodb:Query", "sqs:SendMessage"}


def run_tick_workers(client: Any, aws: dict[str, Any], recording: Recording) -> int:
    """What the SQS event source does with the tick worker's role: each unit, one at a time."""
    queue_url = aws["sqs"].get_queue_url(QueueName=get_settings().queue("tick"))["QueueUrl"]
    done = 0
    while received := aws["sqs"].receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1).get("Messages", []):
        event = client.events.generate_sqs_event([received[0]["Body"]], get_settings().queue("tick"))
        with recording.acting_as("tick_worker"):
            assert client.lambda_.invoke("tick_worker", event).payload == {"batchItemFailures": []}
        aws["sqs"].delete_message(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"])
        done += 1
    return done


def test_the_check_finds_a_call_no_statement_allows(template, aws, arns) -> None:
    tick = statements_for(template, "TickWorker")  # the unit that reads a shard: the posts table only
    channels = Call("dynamodb:GetItem", arns["ChannelsTable"])
    scan = Call("dynamodb:Scan", arns["PostsTable"])
    due_index = Call("dynamodb:Query", arns["PostsTable"] + "/index/due")
    assert denied([channels, scan, due_index], tick, arns) == [channels, scan]


def run_inbox_worker(client: Any, aws: dict[str, Any], recording: Recording) -> list[Any]:
    """What the SQS event source does with the inbox worker's role."""
    queue_url = aws["sqs"].get_queue_url(QueueName=get_settings().queue("inbox_events"))["QueueUrl"]
    with recording.acting_as("inbox_worker"):
        received = aws["sqs"].receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    if not received:
        return []
    event = client.events.generate_sqs_event([m["Body"] for m in received], get_settings().queue("inbox_events"))
    with recording.acting_as("inbox_worker"):
        answer = client.lambda_.invoke("inbox_worker", event).payload
        aws["sqs"].delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)])
    return [answer]


def assert_used_its_whole_role(threading: list[Call]) -> None:
    """thread_messages read the stream, threaded, counted, matched a rule and told the endpoint."""
    assert {call.action for call in threading} >= {
        "dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords", "dynamodb:Query",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "sqs:SendMessage"}
    tables = {call.resource.split(":table/")[1].split("/")[0] for call in threading if ":table/" in call.resource}
    assert {name.rsplit("-", 1)[-1] for name in tables} >= {"inbox", "config", "metrics", "deliveries"}, tables


def test_the_inbox_functions_are_allowed_every_call_they_make(template, client, deps, workspace, clock, aws, arns,
                                                             recording) -> None:
    from chalicelib.networks.base import PollResult
    from chalicelib.wiring import Container, use_container
    from tests.support.fake_network import FakeNetwork, inbound
    from tests.support.webhooks import Webhooks, fixture

    # The Page the fixture's deliveries are for: connecting asks the (fake) network who the token is.
    facebook, bluesky = FakeNetwork(network="facebook", account_id="448242228374517"), FakeNetwork()
    use_container(Container(clock=clock, clients=aws, sleep=lambda _s: None,
                            adapter_overrides={"facebook": facebook, "bluesky": bluesky}))
    api, hooks = Api(client, workspace.headers()), Webhooks(client, clock)
    with recording.acting_as("api_handler"):
        page = api.post("/channels", {"network": "facebook", "name": "Page",
                                      "credentials": {"page_access_token": "t"}}).json["id"]
        api.post("/channels", {"network": "bluesky", "name": "Sky", "credentials": {
            "service_url": "https://pds.example", "handle": "h.example", "app_password": "x"}})
        rule = api.post("/listening/rules", {"name": "Lisbon", "any_of": ["lisbon"]}).json["id"]
        saved = api.post("/saved-replies", {"name": "Hi", "text": "Hi {name}"}).json["id"]
        # An endpoint for what the stream consumer tells (it writes the deliveries and queues them).
        assert api.post("/webhook-endpoints", {"url": "https://hooks.example.com/herald", "events": [
            "conversation.created", "message.received", "mention.matched"]}).status_code == 201
        assert hooks.post("meta", fixture("meta", "feed_comment_add.json")).json["stored"] == 1
        assert hooks.post("meta", fixture("meta", "feed_comment_add.json")).json["requeued"] == 1
    bluesky.poll = lambda cursor: PollResult([inbound("at://ada/1", text="hello lisbon")], "c1")
    with recording.acting_as("poll_inbox"):
        event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
        assert client.lambda_.invoke("poll_inbox", event).payload["stored"] == 1
    answers = run_inbox_worker(client, aws, recording) + run_inbox_worker(client, aws, recording)
    assert answers and all(answer == {"batchItemFailures": []} for answer in answers)
    # The conversations, mentions, counters and webhook events come from the inbox table's stream
    # (thread_messages), read with that function's role as Lambda's event source mapping reads it.
    consumers = run_stream_consumers("InboxTable", client, arns, recording)
    assert [name for name, _logical_id in consumers] == ["thread_messages"]
    with recording.acting_as("api_handler"):
        conversations = api.get("/inbox/conversations").json["items"]
        conversation = next(c["id"] for c in conversations if c["channel_id"] == page)
        api.patch(f"/inbox/conversations/{conversation}", {"assignee": "lena", "tags": ["vip"], "status": "pending"})
        for query in ("status=pending", f"channel_id={page}", "assignee=lena", "tag=vip&kind=comment"):
            assert api.get(f"/inbox/conversations?{query}").json["items"], query
        sent = api.post(f"/inbox/conversations/{conversation}/reply",
                        {"saved_reply_id": saved, "variables": {"name": "Ada"}})
        assert sent.json["message"]["delivery_status"] == "sent", sent.body
        assert api.get(f"/inbox/conversations/{conversation}").status_code == 200
        assert len(api.get("/listening/mentions").json["items"]) == 2
        assert api.delete(f"/saved-replies/{saved}").status_code == 204
        assert api.delete(f"/listening/rules/{rule}").status_code == 204

        assert len(api.get("/webhook-endpoints").json["items"]) == 1

    assert_allowed(recording, template, arns, [("api_handler", "APIHandler"), ("inbox_worker", "InboxWorker"),
                                               ("poll_inbox", "PollInbox"), *consumers])
    assert_used_its_whole_role(recording.calls["thread_messages"])
    for name, logical_id in consumers:
        assert_needs_each_action(recording.calls[name], statements_for(template, logical_id), arns)
