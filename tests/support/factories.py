"""Objects made the way a user makes them: through the API."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339
from tests.fakes.network_apis import NetworkApis
from tests.support.http import Api


def iso(moment: datetime) -> str:
    return to_rfc3339(moment) or ""


def connect_sandbox(api: Api, name: str = "Sandbox", **settings: Any) -> dict[str, Any]:
    response = api.post("/channels", {"network": "sandbox", "name": name,
                                      "credentials": {"token": "sandbox-token"}, "settings": settings})
    assert response.status_code == 201, response.body
    return response.json


def make_post(api: Api, channel_ids: list[str], publish_at: datetime | None = None, text: str = "Hello",
              **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text, "channel_ids": channel_ids, **fields}
    if publish_at is not None:
        body["publish_at"] = iso(publish_at)
    response = api.post("/posts", body)
    assert response.status_code == 201, response.body
    return response.json


INSTAGRAM_PAGE_ID = "109876543210987"  # the Facebook Page an Instagram account is linked to


def credentials_for(network: str, token: str) -> dict[str, str]:
    """The credential fields each webhook network's channel takes, carrying `token`."""
    if network == "facebook":
        return {"page_access_token": token}
    if network == "x":
        return {"access_token": token, "refresh_token": f"refresh-{token}"}
    return {"access_token": token}


def grant_access(apis: NetworkApis, network: str, token: str, account_id: str, handle: str = "herald") -> None:
    """Makes the fake network know `token` as a credential of `account_id`."""
    if network == "facebook":
        apis.facebook_page(token, account_id, handle)
    elif network == "instagram":
        apis.facebook_page(token, INSTAGRAM_PAGE_ID, "Linked Page", instagram=(account_id, handle))
    elif network == "x":
        apis.x_user(token, account_id, handle)
    elif network == "linkedin":
        apis.linkedin_member(token, account_id)
    elif network == "tiktok":
        apis.tiktok_user(token, account_id, handle)
    else:
        raise ValueError(f"{network} is not a network the fake answers for")


def connect_verified(api: Api, apis: NetworkApis, network: str, account_id: str, *, token: str | None = None,
                     name: str = "Connected", handle: str = "herald", **settings: Any) -> dict[str, Any]:
    """A channel connected the way a user connects one: the network vouches for the token."""
    token = token or f"{network}-token-{account_id}"
    grant_access(apis, network, token, account_id, handle)
    response = api.post("/channels", {"network": network, "name": name,
                                      "credentials": credentials_for(network, token), "settings": settings})
    assert response.status_code == 201, response.body
    return response.json
