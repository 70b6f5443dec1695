"""The Lambda functions a Chalice app defines, named as `chalice package` names them in the template."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalice import Chalice
from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig
from chalice.utils import to_cfn_resource_name

Kind = Literal["api", "schedule", "queue", "stream", "invoke"]


@dataclass(frozen=True)
class Function:
    name: str  # as in app.py and in .chalice/config.json's lambda_functions
    kind: Kind
    schedule: str | None = None
    queue: str | None = None  # the queue a consumer reads, by name
    stream_table: str | None = None  # the table whose stream a stream consumer reads, by name

    @property
    def logical_id(self) -> str:
        return "APIHandler" if self.kind == "api" else to_cfn_resource_name(self.name)

    @property
    def event_id(self) -> str | None:
        """The logical id of the function's event under `Properties.Events`."""
        if self.kind == "queue":
            return to_cfn_resource_name(f"{self.name}-sqs-event-source")
        if self.kind == "schedule":
            return to_cfn_resource_name(f"{self.name}-event")
        if self.kind == "stream":
            return to_cfn_resource_name(f"{self.name}-dynamodb-event-source")
        return None

    def deployed_name(self, app_name: str, stage: str) -> str:
        return f"{app_name}-{stage}-{self.name}"


def app_functions(app: Chalice) -> list[Function]:
    found: list[Function] = []
    if app.routes:
        found.append(Function("api_handler", "api"))
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            found.append(Function(source.name, "schedule", schedule=text))
        elif isinstance(source, SQSEventConfig):
            found.append(Function(source.name, "queue", queue=source.queue))
        elif isinstance(source, DynamoDBEventConfig):
            found.append(Function(source.name, "stream", stream_table=stream_table_name(source.stream_arn)))
        else:
            raise ValueError(f"{source.name}: infra/ does not deploy {type(source).__name__} functions yet")
    found += [Function(function.name, "invoke") for function in app.pure_lambda_functions]
    return found


def stream_table_name(stream_arn: str) -> str:
    """`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` -> `<name>`."""
    resource = stream_arn.split(":", 5)[-1]
    parts = resource.split("/")
    if len(parts) < 3 or parts[0] != "table" or parts[2] != "stream":
        raise ValueError(f"{stream_arn!r} is not a DynamoDB stream ARN")
    return parts[1]
