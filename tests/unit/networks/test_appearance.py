"""How a network shows a post (the composer's and the reviewer's preview): the text cut where the network's limit
ends, counted in its own units, and the link card drawn only where the network draws one."""

from __future__ import annotations

from chalicelib.networks.appearance import cut, link_card, measure, shown
from chalicelib.networks.registry import text_length

FLAG = "\U0001f1eb\U0001f1f7"  # one grapheme, two code points


def test_a_text_that_fits_is_shown_whole() -> None:
    assert cut("x", "Fresh bread today", {}) == "Fresh bread today"
    assert measure("x", "Fresh bread today", {}) == {
        "length": 17,
        "limit": 280,
        "unit": "weighted characters (a link counts 23)",
        "fits": True,
    }


def test_a_long_text_is_cut_at_the_limit_in_the_networks_own_units() -> None:
    text = "日本" * 200  # X counts each of these 2
    shown_text = cut("x", text, {})
    assert shown_text == "日本" * 70 and text_length("x", shown_text, {}) == 280


def test_a_cut_never_splits_a_grapheme() -> None:
    text = "a" * 299 + FLAG + "b"  # Bluesky's 300 graphemes: the flag is the 300th
    assert cut("bluesky", text, {}) == "a" * 299 + FLAG
    assert cut("bluesky", "a" * 300 + FLAG, {}) == "a" * 300


def test_a_channels_own_lower_limit_cuts_sooner() -> None:
    assert cut("sandbox", "Twelve chars", {"max_characters": 10}) == "Twelve cha"


def test_a_link_card_is_drawn_only_by_networks_that_draw_one_and_not_under_media() -> None:
    text = "New menu: https://bakery.example/menu?week=12. Come by!"
    card = {"url": "https://bakery.example/menu?week=12", "host": "bakery.example"}
    assert link_card("mastodon", text, False, {}) == card
    assert link_card("mastodon", text, True, {}) is None  # the media shows instead
    assert link_card("linkedin", text, False, {}) is None  # its API scrapes no link
    assert link_card("bluesky", text, False, {}) is None
    assert link_card("telegram", text, False, {"disable_link_preview": True}) is None
    assert link_card("x", "no link here", False, {}) is None


def test_the_view_marks_media_the_network_does_not_take_and_leaves_out_those_past_its_count() -> None:
    media = [{"media_id": f"med_{i}", "mime": "image/png"} for i in range(5)] + [{"media_id": "pdf", "mime": "x/pdf"}]
    view = shown("bluesky", {}, "Look", media[3:], [], None, {})
    assert [(m["media_id"], m["accepted"]) for m in view["media"]] == [("med_3", True), ("med_4", True), ("pdf", False)]
    assert shown("bluesky", {}, "Look", media, [], None, {})["media_left_out"] == 2
