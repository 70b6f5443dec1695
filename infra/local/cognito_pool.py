"""The Cognito user pool and its app client in the AWS emulation, from the same definitions infra/ deploys.

Idempotent: a pool (or client) of that name is found and reused. With moto's HASH id strategy (set by the
local stack and the tests) a fresh emulation gives the pool and client the same ids at every start, so
`.local/env` and the issuer of tokens stay the same across restarts.
"""
from __future__ import annotations

import contextlib
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


LOCAL_MAIL_FROM = "herald@herald.local"


def people_environment(outputs: dict[str, dict[str, Any]], ses: Any) -> dict[str, str]:
    """What the app needs to find the pool the provisioner made and send mail: set before it is imported
    and written to `.local/env`. Verifies the local sender in the emulated SES."""
    from infra.resources import USER_POOL, USER_POOL_CLIENT

    sender = os.environ.get("HERALD_MAIL_FROM") or LOCAL_MAIL_FROM
    verify_sender(ses, sender)
    return {"HERALD_COGNITO_USER_POOL_ID": str(outputs.get(USER_POOL, {}).get("Ref", "")),
            "HERALD_COGNITO_CLIENT_ID": str(outputs.get(USER_POOL_CLIENT, {}).get("Ref", "")),
            "HERALD_MAIL_FROM": sender}


class CognitoUsers:
    """Keeps the emulated pool's users across restarts of the local stack: moto keeps them in memory only.

    Saved with the tables (read from moto's backend in this process: the local stack runs moto here) and made
    again at start by the admin calls, with the same username (Herald's user id) and password. The file holds
    the emulation's passwords in the clear: `.local/` is the developer's own, and never deployed.
    """

    def __init__(self, path: Any, cognito: Any, pool_id: str, account_id: str, region: str) -> None:
        self.path = path
        self.cognito = cognito
        self.pool_id = pool_id
        self.account_id = account_id
        self.region = region

    def save(self) -> None:
        import json

        from moto.cognitoidp.models import cognitoidp_backends

        from infra.local.state_files import write_atomically

        pool = cognitoidp_backends[self.account_id][self.region].user_pools.get(self.pool_id)
        users = [{"username": u.username, "attributes": u.attributes, "password": u.password}
                 for u in list(pool.users.values())] if pool is not None else []
        write_atomically(self.path, json.dumps(users).encode("utf-8"), mode=0o600)

    def restore(self) -> int:
        import json

        if not self.path.exists():
            return 0
        users = json.loads(self.path.read_text("utf-8"))
        for user in users:
            attributes = [a for a in user["attributes"] if a["Name"] != "sub"]
            with contextlib.suppress(self.cognito.exceptions.UsernameExistsException):
                self.cognito.admin_create_user(UserPoolId=self.pool_id, Username=user["username"],
                                               UserAttributes=attributes, MessageAction="SUPPRESS")
            if user.get("password"):
                self.cognito.admin_set_user_password(UserPoolId=self.pool_id, Username=user["username"],
                                                     Password=user["password"], Permanent=True)
        return len(users)
