"""Checks a Herald giveaway draw with the standard library alone.

    python3 giveaway_verify.py entries.csv certificate.json

entries.csv: GET /giveaways/{id}/entries.csv; certificate.json: GET /giveaways/{id}/certificate?format=json.
It recomputes SHA-256 of the entrant list and of the revealed seed, compares them with the commitment published
before the draw, redraws (HMAC-SHA256 of the seed and a counter, rejection sampling, without replacement: the
algorithm is chalicelib/giveaways/draw.py's) and compares the winners and alternates. Exit 0: it all agrees.
"""
import csv
import hashlib
import hmac
import json
import sys


def verify(entries_path: str, certificate_path: str) -> list[str]:
    with open(entries_path, newline="", encoding="utf-8") as f:
        ids = [row["entrant_id"] for row in csv.DictReader(f)]
    with open(certificate_path, encoding="utf-8") as f:
        cert = json.load(f)
    made, seed, problems = cert["commitment"], cert["seed"], []
    pool = sorted(ids, key=lambda e: e.encode())
    if pool != ids or len(set(ids)) != len(ids):
        problems.append("the entrant list is not in canonical order, or repeats an entrant")
    if hashlib.sha256("".join(e + "\n" for e in pool).encode()).hexdigest() != made["entrants_sha256"]:
        problems.append("the entrant list is not the one committed to")
    if len(ids) != made["entrant_count"]:
        problems.append("the entrant count differs from the commitment")
    if not seed or hashlib.sha256(seed.encode("ascii")).hexdigest() != made["seed_sha256"]:
        return problems + ["the revealed seed is not the one committed to (or not revealed yet)"]
    wanted = [p["entrant_id"] for p in cert["winners"] + cert["alternates"]]
    picked, counter, key = [], 0, bytes.fromhex(seed)
    while pool and len(picked) < len(wanted):
        x = int.from_bytes(hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha256).digest(), "big")
        counter, n = counter + 1, len(pool)
        if x < ((1 << 256) // n) * n:
            picked.append(pool.pop(x % n))
    if picked != wanted:
        problems.append(f"the draw gives {picked}, the certificate says {wanted}")
    return problems


if __name__ == "__main__":
    found = verify(sys.argv[1], sys.argv[2])
    print("\n".join(found) or "verified: the commitment, the seed and the winners all agree")
    sys.exit(1 if found else 0)
