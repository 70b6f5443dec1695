"""console/preview.js, the composer's per-network preview, run by Node as the browser runs it: the text as the
API says that network shows it (cut at its limit), the account as that network names it, the media it takes,
the link card only where the API says one is drawn, and the typed text until the API has spoken of it."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.console.test_time_js import run_module

TEXT = "Spring menu: https://bakery.example/menu and more words past the limit"
LINKEDIN = {"id": "chn_li", "name": "Herald Coffee Co", "network": "linkedin", "handle": "herald-coffee"}
SANDBOX = {"id": "chn_sb", "name": "Bakery", "network": "sandbox", "handle": "bakery"}


def shown(**changes: Any) -> dict[str, Any]:
    """An entry of POST /posts/validate's `networks` (chalicelib/publishing/schemas.py NetworkPreview)."""
    return {
        "channel_id": "chn_li",
        "network": "linkedin",
        "text": TEXT,
        "shown_text": TEXT[:40],
        "length": len(TEXT),
        "limit": 40,
        "unit": "characters",
        "fits": False,
        "media": [],
        "media_left_out": 0,
        "link_card": None,
        **changes,
    }


def preview(channel: dict[str, Any], entry: dict[str, Any] | None, typed: dict[str, Any]) -> Any:
    script = f"""
        import {{ previewOf }} from "./console/preview.js";
        console.log(JSON.stringify(previewOf({json.dumps(channel)}, {json.dumps(entry)} ?? undefined,
                                             {json.dumps(typed)})));
    """
    return run_module(script)


def test_a_text_past_the_networks_limit_is_shown_cut_with_the_rest_set_apart() -> None:
    view = preview(LINKEDIN, shown(), {"text": TEXT})

    assert view["text"] == TEXT[:40]
    assert view["cutOff"] == TEXT[40:] and view["fits"] is False
    assert view["count"] == f"{len(TEXT)} of 40 characters"
    assert (view["name"], view["handle"]) == ("Herald Coffee Co", "herald-coffee")  # a page, not an @handle


def test_a_text_that_fits_is_whole_with_its_link_card_and_the_account_by_handle() -> None:
    card = {"url": "https://bakery.example/menu", "host": "bakery.example"}
    entry = shown(channel_id="chn_sb", network="sandbox", shown_text=TEXT, limit=5000, fits=True, link_card=card)

    view = preview(SANDBOX, entry, {"text": TEXT})

    assert (view["text"], view["cutOff"], view["card"]) == (TEXT, "", card)
    assert view["handle"] == "@bakery"


def test_media_are_named_as_uploaded_and_those_the_network_refuses_are_marked() -> None:
    entry = shown(
        media=[{"media_id": "med_1", "accepted": True}, {"media_id": "med_2", "accepted": False}], media_left_out=1
    )
    typed = {
        "text": TEXT,
        "media": [
            {"media_id": "med_1", "name": "loaf.png"},
            {"media_id": "med_2", "name": "menu.pdf"},
            {"media_id": "med_3", "name": "more.png"},
        ],
    }

    view = preview(LINKEDIN, entry, typed)

    assert view["media"] == [{"label": "loaf.png", "accepted": True}, {"label": "menu.pdf", "accepted": False}]
    assert view["mediaLeftOut"] == 1


def test_until_the_api_has_checked_the_text_as_typed_it_is_shown_whole_and_not_yet_counted() -> None:
    view = preview(LINKEDIN, shown(), {"text": TEXT + "!"})  # the answer was about the text before this key

    assert (view["text"], view["cutOff"], view["card"]) == (TEXT + "!", "", None)
    assert view["count"] == f"{len(TEXT) + 1} characters (checking…)"
    assert preview(LINKEDIN, None, {"text": "Hi", "thread": [{"text": "Part two"}], "first_comment": "Link below"}) | {
        "count": None
    } == {
        "channelId": "chn_li",
        "network": "linkedin",
        "name": "Herald Coffee Co",
        "handle": "herald-coffee",
        "text": "Hi",
        "cutOff": "",
        "fits": True,
        "count": None,
        "media": [],
        "mediaLeftOut": 0,
        "card": None,
        "thread": ["2/ Part two"],
        "firstComment": "Link below",
    }
