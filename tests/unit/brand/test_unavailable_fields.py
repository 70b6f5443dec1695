"""A field a network does not give (PublicProfile.unavailable) is never compared: not with the brand, not across
channels; it is "not_available" in the channel's fields. The check runs on in-memory stand-ins of the
repositories and adapters (no avatars: the brand has no logo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.brand.brand_repository import BrandProfile
from chalicelib.brand.consistency import BrandConsistency
from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import PublicProfile

BRAND = BrandProfile("ws_1", "Herald", "2026-03-01T00:00:00Z", keywords=["coffee"], website="https://herald.coffee")


@dataclass
class Row:
    channel_id: str
    network: str
    name: str
    status: str = "active"


@dataclass
class Brand:
    stored: dict[str, Any] = field(default_factory=dict)

    def get_profile(self, workspace_id: str) -> BrandProfile | None:
        return BRAND if workspace_id == BRAND.workspace_id else None

    def put_findings(self, workspace_id: str, findings: dict[str, Any], checked_at: str) -> None:
        self.stored[workspace_id] = findings


class Channels:
    def __init__(self, *rows: Row) -> None:
        self.rows = list(rows)

    def list_all(self, workspace_id: str) -> list[Row]:
        return self.rows

    def context_for(self, row: Row) -> Row:
        return row


class Profiles:
    """An adapter per network answering a fixed profile; a network absent here has no read_profile."""

    def __init__(self, profiles: dict[str, PublicProfile]) -> None:
        self.profiles = profiles

    def __call__(self, network: str) -> Any:
        if network not in self.profiles:
            return object()
        profile = self.profiles[network]
        return type("Adapter", (), {"read_profile": lambda _self, _channel: profile})()


def check(profiles: dict[str, PublicProfile], *rows: Row) -> dict[str, Any]:
    consistency = BrandConsistency(
        Brand(),
        Channels(*rows),
        Channels(*rows),
        Profiles(profiles),
        load_media=lambda _ws, _id: b"",
        http=lambda: None,
        language_of=lambda _ws: None,
        clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)),
    )
    return consistency.check("ws_1")


def by_network(findings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["network"]: c for c in findings["channels"]}


def test_a_member_without_bio_and_link_has_neither_judged() -> None:
    member = PublicProfile("Herald", None, None, None, unavailable=frozenset({"bio", "link"}))

    found = by_network(check({"linkedin": member}, Row("ch_li", "linkedin", "Herald on LinkedIn")))

    assert found["linkedin"]["findings"] == []
    assert found["linkedin"]["fields"] == {
        "display_name": "checked",
        "bio": "not_available",
        "link": "not_available",
        "avatar_url": "checked",
    }


def test_the_same_profile_with_those_fields_offered_but_empty_is_judged() -> None:
    empty = PublicProfile("Herald", None, None, None)

    found = by_network(check({"pinterest": empty}, Row("ch_pin", "pinterest", "Herald on Pinterest")))

    assert [f["code"] for f in found["pinterest"]["findings"]] == ["link_missing", "bio_missing_keywords"]


def test_across_channels_an_unavailable_name_or_link_is_left_out() -> None:
    profiles = {
        "x": PublicProfile("Herald", "coffee", "https://herald.coffee", None),
        "youtube": PublicProfile("Herald", "coffee", None, None, unavailable=frozenset({"link"})),
        "telegram": PublicProfile(
            None, "coffee", "https://elsewhere.example", None, unavailable=frozenset({"display_name", "link"})
        ),
    }
    rows = [Row("ch_x", "x", "X"), Row("ch_yt", "youtube", "YouTube"), Row("ch_tg", "telegram", "Telegram")]

    found = check(profiles, *rows)

    assert found["across_channels"] == []
    assert found["consistent"] is True
    assert by_network(found)["telegram"]["profile"]["link"] is None  # not shown as if it were the profile's


def test_a_network_without_read_profile_has_every_field_not_available() -> None:
    found = by_network(check({}, Row("ch_d", "discord", "Discord")))

    assert (found["discord"]["status"], found["discord"]["findings"]) == ("not_available", [])
    assert set(found["discord"]["fields"].values()) == {"not_available"}
