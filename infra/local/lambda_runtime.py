"""What the Lambda runtime gives a handler: the handler object itself and its context.

The handler is the object Chalice registered in `app.handler_map` under the
event source's name: the very callable Lambda invokes on AWS.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT
from chalice.local import LambdaContext

# moto's default account; every ARN the local stack builds uses it.
LOCAL_ACCOUNT_ID = "123456789012"

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class LambdaEnvironment:
    """Where the handlers "run": region, account, stage, and the app's .chalice/config.json."""

    app: Chalice
    stage: str
    region: str
    account_id: str = LOCAL_ACCOUNT_ID
    config_from_disk: dict[str, Any] | None = None

    def handler(self, name: str) -> Handler:
        try:
            return self.app.handler_map[name]
        except KeyError:
            raise LookupError(f"the app registers no function named {name!r}") from None

    def function_name(self, name: str) -> str:
        return f"{self.app.app_name}-{self.stage}-{name}"

    def config(self, name: str) -> Config:
        return Config(chalice_stage=self.stage, function_name=name,
                      user_provided_params={"app_name": self.app.app_name},
                      config_from_disk=self.config_from_disk or {})

    def context(self, name: str) -> LambdaContext:
        config = self.config(name)
        timeout_s = config.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT
        context = LambdaContext(
            function_name=self.function_name(name),
            memory_size=config.lambda_memory_size or DEFAULT_LAMBDA_MEMORY_SIZE,
            max_runtime_ms=timeout_s * 1000,
        )
        context.invoked_function_arn = (
            f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name(name)}")
        return context


def read_chalice_config(project_dir: Path) -> dict[str, Any]:
    path = project_dir / ".chalice" / "config.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())
