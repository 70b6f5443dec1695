"""A giveaway as the API shows it, and its certificate (JSON, and one self-contained HTML page)."""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from chalicelib.giveaways.draw import ALGORITHM
from chalicelib.giveaways.rules import described, rules_of

if TYPE_CHECKING:
    from chalicelib.giveaways.giveaway_repository import Giveaway

VERIFY = ("python3 docs/giveaway_verify.py entries.csv certificate.json: recomputes both hashes and the winners "
          "from the exported list (GET /giveaways/{id}/entries.csv) and this certificate")


def commitment(g: Giveaway) -> dict[str, Any] | None:
    if g.entrants_sha256 is None:
        return None
    return {"entrant_count": g.entrant_count, "entrants_sha256": g.entrants_sha256,
            "seed_sha256": g.seed_sha256, "committed_at": g.frozen_at}


def giveaway_view(g: Giveaway, entrant_count: int, left_out: dict[str, int]) -> dict[str, Any]:
    return {"id": g.giveaway_id, "name": g.name, "status": g.status, "posts": g.posts, "starts_at": g.starts_at,
            "ends_at": g.ends_at, "winners_count": g.winners_count, "alternates_count": g.alternates_count,
            "rules": described(rules_of(g)), "entrant_count": entrant_count,
            "left_out": {k: v for k, v in left_out.items() if k != "comments"},
            "commitment": commitment(g), "seed": g.seed if g.status == "drawn" else None,
            "winners": g.draw.get("winners", []), "alternates": g.draw.get("alternates", []),
            "drawn_at": g.drawn_at, "created_at": g.created_at}


def certificate(g: Giveaway) -> dict[str, Any]:
    return {"giveaway_id": g.giveaway_id, "name": g.name, "status": g.status, "posts": g.posts,
            "window": {"starts_at": g.starts_at, "ends_at": g.ends_at}, "rules": described(rules_of(g)),
            "entrant_count": g.entrant_count, "commitment": commitment(g),
            "seed": g.seed if g.status == "drawn" else None, "algorithm": ALGORITHM,
            "winners": g.draw.get("winners", []), "alternates": g.draw.get("alternates", []),
            "drawn_at": g.drawn_at, "verify": VERIFY}


def _picks(title: str, picks: list[dict[str, Any]]) -> str:
    rows = "".join(f"<tr><td>{p['position']}</td><td>{escape(p['handle'] or '')}</td>"
                   f"<td><code>{escape(p['entrant_id'])}</code></td></tr>" for p in picks)
    return (f"<h2>{title}</h2><table><tr><th>#</th><th>Account</th><th>Entrant id</th></tr>{rows}</table>"
            if picks else f"<h2>{title}</h2><p>None.</p>")


def certificate_html(c: dict[str, Any]) -> str:
    rules = "".join(f"<li>{escape(r['rule'])} — <strong>{'verified' if r['verified'] else 'not verified'}"
                    "</strong></li>" for r in c["rules"])
    posts = "".join(f"<li>{escape(p['network'])} {escape(p['remote_id'])}"
                    f"{' (' + escape(p['remote_url']) + ')' if p.get('remote_url') else ''}</li>" for p in c["posts"])
    made = c["commitment"]
    committed = ("<p>Not frozen yet: no commitment.</p>" if made is None else
                 f"<p>Frozen at {escape(made['committed_at'])} with {made['entrant_count']} entrants.</p>"
                 f"<p>SHA-256 of the entrant list: <code>{escape(made['entrants_sha256'])}</code></p>"
                 f"<p>SHA-256 of the seed: <code>{escape(made['seed_sha256'])}</code></p>")
    seed = (f"<p>Seed (revealed after the draw at {escape(c['drawn_at'])}): <code>{escape(c['seed'])}</code></p>"
            if c["seed"] else "<p>The seed is revealed after the draw.</p>")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Giveaway certificate — '
            f'{escape(c["name"])}</title><style>body{{font:14px/1.5 sans-serif;max-width:860px;margin:24px auto;'
            'padding:0 16px}code{word-break:break-all}table{border-collapse:collapse}td,th{border:1px solid #ccc;'
            f'padding:4px 8px}}</style></head><body><h1>Giveaway certificate: {escape(c["name"])}</h1>'
            f'<p>Giveaway {escape(c["giveaway_id"])} · {escape(c["status"])} · entries from '
            f'{escape(c["window"]["starts_at"])} to {escape(c["window"]["ends_at"])}</p>'
            f"<h2>Posts</h2><ul>{posts}</ul><h2>Rules</h2><ul>{rules}</ul>"
            f"<h2>Commitment</h2>{committed}{seed}"
            f'{_picks("Winners", c["winners"])}{_picks("Alternates", c["alternates"])}'
            f'<h2>How to check it</h2><p>{escape(c["algorithm"])}.</p><p>{escape(c["verify"])}.</p></body></html>')
