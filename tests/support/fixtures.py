"""Shared fixtures: AWS emulated in-process by moto, an injected clock, a
workspace with keys of each role, and Chalice's test client."""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.core.clock import FixedClock
from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from infra.local.aws_emulation import AwsClients
from infra.local.cognito_pool import verify_sender
from infra.local.kms_keys import KmsKeyKeeper
from infra.local.moto_map_keys import keep_empty_map_keys
from infra.local.provision import Provisioner
from infra.moto_atomic import make_dynamodb_atomic
from infra.resources import resources
from tests.fakes.network_apis import NetworkApis
from tests.support.people import with_user_pool
from tests.support.template_stack import TEMPLATE_VARIABLE, data_stack, package_template

ACCOUNT_ID = "123456789012"  # moto's default account
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def aws_clients() -> dict[str, Any]:
    """Made once: a boto3 client is slow to make, and moto answers for it whenever a mock is active."""
    from botocore.config import Config

    region = get_settings().region
    clients = {name: boto3.client(name, region_name=region) for name in ("dynamodb", "sqs", "kms")}
    # As chalicelib/core/aws.py makes it: SigV4 presigned uploads sign Content-Length and Content-Type.
    clients["s3"] = boto3.client("s3", region_name=region, config=Config(signature_version="s3v4"))
    return clients


@pytest.fixture(scope="session")
def people_clients() -> dict[str, Any]:
    """Cognito (the user pool) and SES (the mail Herald sends), made once as the others."""
    region = get_settings().region
    return {name: boto3.client(name, region_name=region) for name in ("cognito-idp", "ses")}


@pytest.fixture(scope="session")
def template_stack() -> tuple[Any, str] | None:
    """With HERALD_TEST_TEMPLATE set: a CloudFormation client, and the packaged template's data resources."""
    path = os.environ.get(TEMPLATE_VARIABLE)
    if not path:
        return None
    with open(path) as template_file:
        body = data_stack(json.load(template_file))
    return boto3.client("cloudformation", region_name=get_settings().region), body


@pytest.fixture
def aws(aws_clients: dict[str, Any], people_clients: dict[str, Any],
        template_stack: tuple[Any, str] | None) -> Iterator[dict[str, Any]]:
    """A fresh, empty emulated AWS for each test, with the stage's resources made by the
    local stack's own provisioner from the same definitions (or, with HERALD_TEST_TEMPLATE,
    by CloudFormation from the packaged template)."""
    make_dynamodb_atomic()
    keep_empty_map_keys()  # as the local stack serves them
    with mock_aws():
        settings = get_settings()
        if template_stack is not None:
            cloudformation, body = template_stack
            cloudformation.create_stack(StackName=f"herald-{settings.stage}", TemplateBody=body)
        else:
            keys = KmsKeyKeeper(None, aws_clients["kms"], ACCOUNT_ID, settings.region)
            Provisioner(AwsClients(**aws_clients, cognito=people_clients["cognito-idp"], ses=people_clients["ses"]),
                        keys, settings.region, ACCOUNT_ID).provision(resources(settings.stage))
        verify_sender(people_clients["ses"], settings.mail_from)
        yield {**aws_clients, **people_clients}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(scope="session")
def network_apis_server() -> Iterator[NetworkApis]:
    with NetworkApis() as server:
        yield server


@pytest.fixture
def network_apis(network_apis_server: NetworkApis) -> NetworkApis:
    """The networks' identity APIs (Graph, X, LinkedIn, TikTok) on 127.0.0.1, knowing no token yet."""
    network_apis_server.reset()
    return network_apis_server


@pytest.fixture
def deps(aws: dict[str, Any], clock: FixedClock, network_apis: NetworkApis) -> Container:
    settings = with_user_pool(network_apis.settings(get_settings()), aws["cognito-idp"])
    return use_container(Container(settings, clock=clock, clients=aws, sleep=lambda _s: None))


@pytest.fixture
def local_peers(deps: Container) -> Container:
    """`deps` whose outbound policy lets requests reach 127.0.0.1 (tests/support/outbound.py)."""
    from tests.support.outbound import allow_local_peers

    return allow_local_peers(deps)


@pytest.fixture
def client(deps: Container) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


@dataclass
class Workspace:
    id: str
    keys: dict[str, str]

    def headers(self, role: str = "owner") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", "Content-Type": "application/json"}


def make_workspace(deps: Container, name: str = "Acme", timezone_name: str = "UTC") -> Workspace:
    row, owner = deps.access.create_workspace(name, timezone_name)
    keys = {"owner": owner.api_key}
    for role in ("admin", "editor", "viewer"):
        keys[role] = deps.access.issue_key(row.workspace_id, role).api_key
    return Workspace(row.workspace_id, keys)


@pytest.fixture
def workspace(deps: Container) -> Workspace:
    return make_workspace(deps)


@pytest.fixture
def other_workspace(deps: Container) -> Workspace:
    return make_workspace(deps, "Rival")


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, dict[str, Any]]]:
    """A stage's template as `make package` builds it (without fetching the dependencies), built once."""
    built: dict[str, tuple[Path, dict[str, Any]]] = {}

    def build(stage: str) -> tuple[Path, dict[str, Any]]:
        if stage not in built:
            out = tmp_path_factory.mktemp(f"package-{stage}")
            built[stage] = (out / "template.json", package_template(stage, out))
        return built[stage]

    return build
