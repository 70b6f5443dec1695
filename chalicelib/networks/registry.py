"""The networks Herald knows: what each needs to connect and what it accepts.

Adapter modules are imported only when a network is used, so a handler pays
only for the networks it touches.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from chalicelib.networks.base import NetworkLimits
from chalicelib.networks.text import COUNTERS


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    module: str
    credential_fields: tuple[str, ...] = ()
    # The settings field holding the network's id of the account (webhooks find
    # the channel by it); None where connecting asks the network instead.
    account_setting: str | None = None
    verify_on_connect: bool = False
    can_publish: bool = True


NETWORKS: dict[str, NetworkSpec] = {
    spec.name: spec for spec in (
        NetworkSpec("sandbox", "chalicelib.networks.sandbox"),
        NetworkSpec("bluesky", "chalicelib.networks.bluesky", ("service_url", "handle", "app_password"),
                    verify_on_connect=True),
        NetworkSpec("mastodon", "chalicelib.networks.mastodon", ("instance_url", "access_token"),
                    verify_on_connect=True),
        NetworkSpec("facebook", "chalicelib.networks.meta", ("page_access_token",), "page_id",
                    can_publish=False),
        NetworkSpec("instagram", "chalicelib.networks.meta", ("access_token",), "ig_user_id", can_publish=False),
        NetworkSpec("x", "chalicelib.networks.x", ("access_token", "refresh_token"), "user_id",
                    can_publish=False),
        NetworkSpec("linkedin", "chalicelib.networks.linkedin", ("access_token",), "organization_urn",
                    can_publish=False),
        NetworkSpec("tiktok", "chalicelib.networks.tiktok", ("access_token",), "open_id", can_publish=False),
    )
}


def get_spec(network: str) -> NetworkSpec | None:
    return NETWORKS.get(network)


def network_module(network: str) -> Any:
    return importlib.import_module(NETWORKS[network].module)


def limits_for(network: str, settings: dict[str, Any] | None = None) -> NetworkLimits:
    module = network_module(network)
    limits: NetworkLimits = getattr(module, "LIMITS_BY_NETWORK", {}).get(network) or module.LIMITS
    override = (settings or {}).get("max_characters")
    if override:
        from dataclasses import replace

        limits = replace(limits, max_text=int(override))
    return limits


def text_length(network: str, text: str, settings: dict[str, Any] | None = None) -> int:
    limits = limits_for(network, settings)
    return COUNTERS[limits.text_counting](text, settings or {})
