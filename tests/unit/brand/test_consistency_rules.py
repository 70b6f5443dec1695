"""The brand consistency rules on their own: the avatar threshold and how links compare."""
from __future__ import annotations

import pytest

from chalicelib.brand.consistency import AVATAR_DISTANCE, comparable_link, image_hash
from tests.support.brand_images import as_avatar_jpeg, logo_png, other_picture


def test_the_same_logo_resized_and_recompressed_stays_within_the_threshold() -> None:
    logo = image_hash(logo_png())
    for size, quality in ((400, 70), (96, 50), (48, 40)):
        assert int(image_hash(as_avatar_jpeg(logo_png(), size, quality)) - logo) <= AVATAR_DISTANCE // 2


def test_another_picture_is_well_beyond_it() -> None:
    assert int(image_hash(other_picture()) - image_hash(logo_png())) > 2 * AVATAR_DISTANCE


@pytest.mark.parametrize(("a", "b"), [
    ("https://herald.coffee", "http://www.herald.coffee/"),
    ("herald.coffee/shop", "https://HERALD.coffee/shop/"),
])
def test_links_that_lead_to_the_same_place_compare_equal(a: str, b: str) -> None:
    assert comparable_link(a) == comparable_link(b)


def test_another_path_is_another_link() -> None:
    assert comparable_link("https://herald.coffee/shop") != comparable_link("https://herald.coffee")
    assert comparable_link("") is None
