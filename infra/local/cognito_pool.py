"""The Cognito user pool and its app client in the AWS emulation, from the same definitions infra/ deploys.

Idempotent: a pool (or client) of that name is found and reused. With moto's HASH id strategy (set by the
local stack and the tests) a fresh emulation gives the pool and client the same ids at every start, so
`.local/env` and the issuer of tokens stay the same across restarts.
"""
from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

# moto's deterministic ids: the same name and settings give the same pool id and client id.
STABLE_ID_VARIABLES = ("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY")


def use_stable_ids() -> None:
    for variable in STABLE_ID_VARIABLES:
        os.environ.setdefault(variable, "HASH")


def _find_pool(cognito: Any, name: str) -> dict[str, Any] | None:
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page.get("UserPools", []):
            if pool["Name"] == name:
                return dict(pool)
    return None


def user_pool(cognito: Any, props: dict[str, Any]) -> dict[str, Any]:
    name = props["UserPoolName"]
    found = _find_pool(cognito, name)
    if found is None:
        arguments = {"PoolName": name, **{k: v for k, v in props.items()
                                          if k in ("AdminCreateUserConfig", "Policies", "Schema",
                                                   "AccountRecoverySetting")}}
        found = cognito.create_user_pool(**arguments)["UserPool"]
        log.info("Created user pool %s (%s)", name, found["Id"])
    pool_id = found["Id"]
    arn = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
    return {"Ref": pool_id, "Arn": arn, "ProviderName": f"cognito-idp.amazonaws.com/{pool_id}"}


def user_pool_client(cognito: Any, props: dict[str, Any]) -> dict[str, Any]:
    pool_id, name = props["UserPoolId"], props["ClientName"]
    for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for client in page.get("UserPoolClients", []):
            if client["ClientName"] == name:
                return {"Ref": client["ClientId"]}
    made = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=name, GenerateSecret=False,
        ExplicitAuthFlows=props.get("ExplicitAuthFlows", []))["UserPoolClient"]
    log.info("Created user pool client %s (%s)", name, made["ClientId"])
    return {"Ref": made["ClientId"]}


def verify_sender(ses: Any, sender: str) -> None:
    """The emulated SES sends only from a verified identity, as SES's sandbox does."""
    ses.verify_email_identity(EmailAddress=sender)
