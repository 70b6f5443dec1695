"""Where a short link sends the visitor: its target with UTM parameters for the network and post, and the
click id the site may report a conversion with."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CLICK_ID_PARAM = "hcid"


def redirect_target(target: str, *, network: str, campaign: str, post_id: str, click_id: str) -> str:
    """UTM parameters the target already has are the author's and are kept."""
    parts = urlsplit(target)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _value in query}
    wanted = [("utm_source", network), ("utm_medium", "social"), ("utm_campaign", campaign),
              ("utm_content", post_id)]
    query += [(name, value) for name, value in wanted if name not in present]
    query = [(name, value) for name, value in query if name != CLICK_ID_PARAM] + [(CLICK_ID_PARAM, click_id)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), parts.fragment))
