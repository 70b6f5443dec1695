"""People in tests: the provisioned user pool's ids in the settings, the mail the emulated SES kept, and a
person invited, accepted and signed in through the API itself."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.core.settings import Settings, resource_name
from chalicelib.people.dev_mail import sent_mail
from tests.support.http import Api

PASSWORD = "Correct-horse-42"
TOKEN = re.compile(r"\b((?:inv|rst)_[0-9a-z_]+\.[A-Za-z0-9_-]{43})\b")


def with_user_pool(settings: Settings, cognito: Any) -> Settings:
    pool_name, client_name = resource_name(settings.stage, "users"), resource_name(settings.stage, "web")
    pool_id = next((p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"]
                    if p["Name"] == pool_name), "")
    client_id = ""
    if pool_id:
        client_id = next((c["ClientId"] for c in cognito.list_user_pool_clients(
            UserPoolId=pool_id, MaxResults=60)["UserPoolClients"] if c["ClientName"] == client_name), "")
    return replace(settings, cognito_user_pool_id=pool_id, cognito_client_id=client_id)


def mail_to(address: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    return [m for m in sent_mail("123456789012", region) if address in m["to"]]


def token_mailed_to(address: str) -> str:
    """The newest single-use token mailed to this address."""
    for message in mail_to(address):
        found = TOKEN.search(message["body"])
        if found:
            return found.group(1)
    raise AssertionError(f"no token was mailed to {address}")


@dataclass
class Person:
    email: str
    access_token: str
    refresh_token: str | None
    user_id: str

    def headers(self, workspace_id: str | None = None, agency_id: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.access_token}", "Content-Type": "application/json"}
        if workspace_id:
            headers["X-Herald-Workspace"] = workspace_id
        if agency_id:
            headers["X-Herald-Agency"] = agency_id
        return headers


def sign_in(client: Any, email: str, password: str = PASSWORD) -> Person:
    anonymous = Api(client, {"Content-Type": "application/json"})
    answer = anonymous.post("/auth/sign-in", {"email": email, "password": password})
    assert answer.status_code == 200, answer.json
    tokens = answer.json
    me = Api(client, {"Authorization": f"Bearer {tokens['access_token']}"}).get("/me")
    assert me.status_code == 200, me.json
    return Person(email, tokens["access_token"], tokens["refresh_token"], me.json["user"]["id"])


def accept(client: Any, email: str, password: str | None = PASSWORD) -> dict[str, Any]:
    anonymous = Api(client, {"Content-Type": "application/json"})
    body: dict[str, Any] = {"token": token_mailed_to(email)}
    if password is not None:
        body["password"] = password
    answer = anonymous.post("/invitations/accept", body)
    assert answer.status_code == 200, answer.json
    return dict(answer.json)


def invite_person(client: Any, inviter: dict[str, str], email: str, role: str, path: str = "/invitations") -> Person:
    """Invited by `inviter` (headers of a key or a person), accepted with a password, signed in."""
    answer = Api(client, inviter).post(path, {"email": email, "role": role})
    assert answer.status_code == 201, answer.json
    accept(client, email)
    return sign_in(client, email)
