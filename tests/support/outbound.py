"""Tests that talk to local peers on 127.0.0.1 (a PDS, the Mastodon fake, a media server) say so here.

Herald's default outbound policy refuses loopback and private addresses, as it must in production; a test
that needs one gets the allowing policy explicitly, never through the environment, so every other test
(the security tests first) runs with the refusing default.
"""
from __future__ import annotations

from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.wiring import Container


def allow_local_peers(container: Container) -> Container:
    """What HERALD_ALLOW_PRIVATE_URLS=1 gives, for this container only. Call it before any adapter is made."""
    assert not container._adapters, "allow local peers before the container makes its adapters"
    container.outbound = ALLOW_LOCAL_PEERS
    container.__dict__.pop("media", None)
    return container
