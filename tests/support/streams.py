"""Running the stream consumers in a test's time, the way Lambda's DynamoDB Streams event source would:
the local stack's own stream poller reading moto's stream and calling the registered handler."""
from __future__ import annotations

import weakref
from typing import Any

from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container
from infra.local.lambda_runtime import LambdaEnvironment
from infra.local.stream_poller import StreamPoller, stream_sources

_streams: dict[str, Any] = {}


def streams_client() -> Any:
    """Made once (a boto3 client is slow to make); moto answers for it whenever a mock is active."""
    if "client" not in _streams:
        import boto3

        # botocore's endpoint rules send stream calls to `<account>.streams-ddb.<region>...`, which moto's
        # in-process mock does not route; its own address is the regional one.
        region = get_settings().region
        _streams["client"] = boto3.client("dynamodbstreams", region_name=region,
                                          endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com")
    return _streams["client"]


def stream_pollers(deps: Container, starting_position: str = "TRIM_HORIZON") -> list[StreamPoller]:
    from app import app

    env = LambdaEnvironment(app=app, stage=get_settings().stage, region=get_settings().region)
    return [StreamPoller(env, source, deps.client("dynamodb"), streams_client(), starting_position,
                         sleep=lambda _s: None) for source in stream_sources(env)]


_pollers: weakref.WeakKeyDictionary[Container, list[StreamPoller]] = weakref.WeakKeyDictionary()


def run_stream_consumers(deps: Container, *, from_start: bool = False) -> int:
    """The stream records written since the last call, handed to their consumer. `from_start`: every
    record since the tables were made, those handed over before included, as a stream may deliver a
    record again (the consumers must count it once)."""
    if from_start:
        return sum(poller.drain() for poller in stream_pollers(deps))
    if deps not in _pollers:
        _pollers[deps] = stream_pollers(deps)
    return sum(poller.drain() for poller in _pollers[deps])
