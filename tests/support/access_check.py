"""What AWS calls a function made, read from moto's request recorder, and whether its role allows them.

Each recorded request becomes the IAM actions AWS would authorise for it, on the resource's ARN
(a transaction is authorised item by item, a batch per table). A role's statements are resolved with
the ARNs of the resources moto's CloudFormation made, then matched the way IAM matches (`*` wildcards).
"""
from __future__ import annotations

import base64
import fnmatch
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

ACCOUNT_ID = "123456789012"  # moto's default account
# Batch calls are authorised as the single action.
SAME_AS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
           "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
TRANSACTION_ITEMS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


@dataclass(frozen=True)
class Call:
    action: str  # as IAM names it, e.g. dynamodb:Query
    resource: str  # an ARN


def _body(entry: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of the JSON protocols (DynamoDB, KMS, SQS); S3 bodies are not read."""
    raw = entry.get("body") or ""
    data = base64.b64decode(raw) if entry.get("body_encoded") else raw.encode()
    return json.loads(data) if data.lstrip().startswith(b"{") else {}


def _dynamodb(operation: str, body: dict[str, Any], region: str) -> list[Call]:
    def table(name: str, index: str | None = None) -> str:
        return f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}" + (f"/index/{index}" if index else "")

    if operation in ("TransactWriteItems", "TransactGetItems"):
        calls = []
        for item in body["TransactItems"]:
            [(kind, detail)] = item.items()
            calls.append(Call(f"dynamodb:{TRANSACTION_ITEMS[kind]}", table(detail["TableName"])))
        return calls
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Call(f"dynamodb:{operation}", table(name)) for name in body["RequestItems"]]
    return [Call(f"dynamodb:{operation}", table(body["TableName"], body.get("IndexName")))]


def _stream(operation: str, body: dict[str, Any]) -> Call:
    """A DynamoDB Streams call, authorised on the stream's ARN (a shard iterator starts with it: `<arn>|1|...`)."""
    arn = body.get("StreamArn") or str(body.get("ShardIterator", "")).split("|", 1)[0]
    return Call(f"dynamodb:{operation}", arn)


def _s3(entry: dict[str, Any]) -> list[Call]:
    url = urlparse(entry["url"])
    host_bucket = url.netloc.split(".s3", 1)[0] if ".s3" in url.netloc else ""
    if host_bucket:  # virtual-hosted style: https://bucket.s3.amazonaws.com/key
        bucket, key = host_bucket, unquote(url.path).lstrip("/")
    else:  # path style: https://s3.amazonaws.com/bucket/key
        bucket, _, key = unquote(url.path).lstrip("/").partition("/")
    method = entry["method"]
    if key:
        action = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject",
                  "DELETE": "DeleteObject"}[method]
        return [Call(f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}")]
    if method == "GET" and ("list-type" in parse_qs(url.query) or not url.query):
        return [Call("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    return [Call(f"s3:{method}Bucket", f"arn:aws:s3:::{bucket}")]


def calls_in(recording: str, region: str, key_arns: dict[str, str], queue_arns: dict[str, str]) -> list[Call]:
    """The IAM view of a moto recording. key_arns maps key ids and aliases to key ARNs, queue_arns queue
    names to queue ARNs."""
    calls: list[Call] = []
    for line in recording.splitlines():
        entry = json.loads(line)
        headers = {name.lower(): value for name, value in entry["headers"].items()}
        target = headers.get("x-amz-target", "")
        body = _body(entry)
        if target.startswith("DynamoDB_"):
            calls += _dynamodb(target.split(".")[1], body, region)
        elif target.startswith("DynamoDBStreams_"):
            calls.append(_stream(target.split(".")[1], body))
        elif target.startswith("TrentService."):
            calls.append(Call(f"kms:{target.split('.')[1]}", key_arns[body["KeyId"]] if "KeyId" in body
                              else next(iter(key_arns.values()))))
        elif target.startswith("AmazonSQS."):
            operation = target.split(".")[1]
            queue = body.get("QueueName") or body["QueueUrl"].rsplit("/", 1)[1]
            calls.append(Call(f"sqs:{SAME_AS.get(operation, operation)}", queue_arns[queue]))
        elif "s3" in urlparse(entry["url"]).netloc:
            calls += _s3(entry)
        else:
            raise AssertionError(f"an AWS call this check does not understand: "
                                 f"{entry['method']} {entry['url']}")
    return calls


def resolve(value: Any, arns: dict[str, str]) -> str:
    """A policy's Resource entry (Fn::GetAtt X.Arn or X.StreamArn, or Fn::Sub "${X.Arn}/suffix") as an ARN
    pattern. `arns` names a table's stream `<logical id>.StreamArn`."""
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute in ("Arn", "StreamArn"), value
        return arns[logical_id if attribute == "Arn" else f"{logical_id}.{attribute}"]
    text = value["Fn::Sub"]
    logical_id, _, rest = text.removeprefix("${").partition(".Arn}")
    return arns[logical_id] + rest


def denied(calls: list[Call], statements: list[dict[str, Any]], arns: dict[str, str]) -> list[Call]:
    """The calls no Allow statement covers."""
    allowed = [(statement["Action"], [resolve(r, arns) for r in statement["Resource"]])
               for statement in statements if statement["Effect"] == "Allow"
               and all(_resolvable(r, arns) for r in statement["Resource"])]
    return [call for call in calls
            if not any(call.action in actions and any(fnmatch.fnmatchcase(call.resource, p) for p in patterns)
                       for actions, patterns in allowed)]


def _resolvable(value: Any, arns: dict[str, str]) -> bool:
    """Log groups are not made in moto: statements about them cannot match a recorded call anyway."""
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return (logical_id if attribute == "Arn" else f"{logical_id}.{attribute}") in arns
    return value["Fn::Sub"][2:].split(".")[0] in arns
