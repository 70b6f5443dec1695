"""The verifiable draw. docs/giveaway_verify.py is the same algorithm in the standard library alone, for anyone
holding the exported entries.csv and the certificate; keep the two in step.

1. The canonical entrant list: each entrant's id (`<network>:<account id>`), sorted by their UTF-8 bytes, one
   per line, each line ending in "\\n", encoded as UTF-8. `entrants_sha256` = SHA-256 of it, in hex.
2. The seed: 32 random bytes, written as 64 lower-case hex characters. `seed_sha256` = SHA-256 of those 64
   ASCII characters, in hex. Both hashes are published when the list is frozen; the seed stays sealed.
3. The draw: a pool holds the sorted list. For counter = 0, 1, 2, ...: h = HMAC-SHA256(key = the seed's 32
   bytes, message = the counter as 8 bytes big-endian); x = h read as a 256-bit big-endian number; n = the
   pool's size; if x >= (2^256 // n) × n the counter is skipped (rejection sampling: every position equally
   likely); else the entrant at position x mod n leaves the pool and is the next pick. The first `winners`
   picks win, the next `alternates` picks are alternates, in order. It stops when the pool is empty.
4. After the draw the seed is shown: anyone checks SHA-256(seed) against the published `seed_sha256`, the
   exported list against `entrants_sha256`, and runs step 3.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

ALGORITHM = ("sorted UTF-8 entrant ids, one per line with a trailing newline, hashed with SHA-256; seed: 32 random "
             "bytes as 64 hex characters, committed as SHA-256 of those characters; pick: HMAC-SHA256(seed bytes, "
             "counter as 8 bytes big-endian) as a big-endian integer x, rejected when x >= floor(2^256/n)*n, else "
             "position x mod n of the remaining sorted pool, removed; winners first, then alternates")
SPACE = 1 << 256


def canonical(entrant_ids: list[str]) -> bytes:
    return "".join(f"{e}\n" for e in sorted(entrant_ids, key=lambda e: e.encode())).encode()


def entrants_sha256(entrant_ids: list[str]) -> str:
    return hashlib.sha256(canonical(entrant_ids)).hexdigest()


def new_seed() -> str:
    return secrets.token_bytes(32).hex()


def seed_sha256(seed: str) -> str:
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def pick(seed: str, entrant_ids: list[str], count: int) -> list[str]:
    """Up to `count` entrants, in the order drawn."""
    key = bytes.fromhex(seed)
    pool = sorted(entrant_ids, key=lambda e: e.encode())
    picked: list[str] = []
    counter = 0
    while pool and len(picked) < count:
        x = int.from_bytes(hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha256).digest(), "big")
        counter += 1
        n = len(pool)
        if x >= (SPACE // n) * n:
            continue
        picked.append(pool.pop(x % n))
    return picked
