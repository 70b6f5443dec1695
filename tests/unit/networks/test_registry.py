from __future__ import annotations

import pytest

from chalicelib.networks.registry import NETWORKS, limits_for, text_length
from chalicelib.networks.text import COUNTERS

FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"  # man, woman, girl, boy joined by ZWJ
RAINBOW_FLAG = "\U0001F3F3\uFE0F\u200D\U0001F308"
FRANCE = "\U0001F1EB\U0001F1F7"
THUMBS_UP_MEDIUM = "\U0001F44D\U0001F3FD"
E_ACUTE_COMBINING = "e\u0301"
HANGUL_JAMO = "\u1100\u1161\u11A8"


@pytest.mark.parametrize(("text", "count"), [
    ("", 0),
    ("hello", 5),
    (FAMILY, 1),
    (RAINBOW_FLAG, 1),
    (FRANCE, 1),
    (FRANCE + FRANCE, 2),
    (THUMBS_UP_MEDIUM, 1),
    (E_ACUTE_COMBINING, 1),
    (HANGUL_JAMO, 1),
    ("\r\n", 1),
    (f"Hi {FAMILY} from {FRANCE}!", 12),
])
def test_graphemes_count_what_a_reader_sees_as_one_character(text, count):
    assert COUNTERS["graphemes"](text, {}) == count


def test_the_sandbox_counts_code_points():
    assert text_length("sandbox", FAMILY) == 7
    assert text_length("sandbox", "hello") == 5


def test_the_sandbox_allows_5000_characters():
    assert limits_for("sandbox").max_text == 5000


def test_a_channel_may_lower_the_limit():
    assert limits_for("sandbox", {"max_characters": 20}).max_text == 20
    assert limits_for("sandbox", {"max_characters": 20}).max_media == limits_for("sandbox").max_media
    assert limits_for("sandbox", {}).max_text == 5000


def test_every_network_names_an_adapter_module_and_what_it_needs():
    for name, spec in NETWORKS.items():
        assert spec.name == name
        assert spec.module.startswith("chalicelib.networks.")
        assert spec.credential_fields or name == "sandbox"


def test_bluesky_counts_graphemes_against_300():
    pytest.importorskip("chalicelib.networks.bluesky", reason="the Bluesky adapter is being written separately")
    assert limits_for("bluesky").max_text == 300
    assert text_length("bluesky", FAMILY * 300) == 300


def test_the_registry_knows_the_adapters_own_choices():
    """Written out in the registry so that validation loads no adapter: they must not drift apart."""
    from chalicelib.networks import mastodon, registry, sandbox

    assert registry.SANDBOX_FAILURES == sandbox.FAILURES
    assert registry.MASTODON_VISIBILITIES == mastodon.VISIBILITIES


def test_every_network_declares_what_its_channel_takes():
    for spec in NETWORKS.values():
        assert spec.credentials_model.model_config["extra"] == "forbid", spec.name
        assert spec.settings_model.model_config["extra"] == "forbid", spec.name
        assert spec.verify_on_connect == (spec.name != "sandbox"), spec.name
        assert spec.account_setting is None or spec.account_setting in spec.settings_model.model_fields
