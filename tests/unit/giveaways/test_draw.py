"""The draw's algorithm (chalicelib/giveaways/draw.py): without replacement, every position equally likely,
the same picks from the same seed whatever order the entrants came in."""
from __future__ import annotations

import hashlib
from collections import Counter

from chalicelib.giveaways import draw


def test_the_same_seed_picks_the_same_entrants_whatever_order_they_came_in() -> None:
    seed = "00" * 32
    ids = [f"instagram:{n}" for n in range(7)]
    assert draw.pick(seed, ids, 4) == draw.pick(seed, list(reversed(ids)), 4)
    assert len(set(draw.pick(seed, ids, 4))) == 4
    assert sorted(draw.pick(seed, ids, 99)) == sorted(ids)  # asking for more than there are: everyone, once


def test_every_position_is_equally_likely() -> None:
    ids = ["a:1", "a:2", "a:3"]
    firsts = Counter(draw.pick(hashlib.sha256(str(n).encode()).hexdigest(), ids, 1)[0] for n in range(3000))
    assert all(850 < firsts[e] < 1150 for e in ids), firsts


def test_the_commitment_hashes_are_of_the_documented_bytes() -> None:
    assert draw.canonical(["b:2", "a:1"]) == b"a:1\nb:2\n"
    assert draw.entrants_sha256(["b:2", "a:1"]) == hashlib.sha256(b"a:1\nb:2\n").hexdigest()
    seed = draw.new_seed()
    assert len(seed) == 64 and draw.seed_sha256(seed) == hashlib.sha256(seed.encode()).hexdigest()
