"""The Lambda functions a Chalice app defines, named as `chalice package` names them in the template."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalice import Chalice
from chalice.app import ScheduledEventConfig, SQSEventConfig
from chalice.utils import to_cfn_resource_name

Kind = Literal["api", "schedule", "queue", "invoke"]


@dataclass(frozen=True)
class Function:
    name: str  # as in app.py and in .chalice/config.json's lambda_functions
    kind: Kind
    schedule: str | None = None
    queue: str | None = None  # the queue a consumer reads, by name

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
        else:
            raise ValueError(f"{source.name}: infra/ does not deploy {type(source).__name__} functions yet")
    found += [Function(function.name, "invoke") for function in app.pure_lambda_functions]
    return found
