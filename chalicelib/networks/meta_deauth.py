"""Meta's Deauthorize Callback: when a person removes Herald's app from their Facebook account, Meta POSTs a
form body `signed_request=<signature>.<payload>` to the callback URL set in the app dashboard (Facebook Login
→ Settings → Deauthorize callback URL). `payload` is base64url JSON `{"algorithm": "HMAC-SHA256",
"issued_at": <unix>, "user_id": "<app-scoped user id>"}`; `signature` is base64url(HMAC-SHA256(app secret,
the payload as sent)). Both are base64url without padding. Source: Meta's "Parsing the Signed Request" and
"Deauthorize Callback" pages (tests/events/meta/README.md).
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs

from chalicelib.networks.base import SignatureError
from chalicelib.networks.webhook import hmac_sha256, require_secret, same_digest

MAX_SIGNED_REQUEST = 8192


def _unpadded_b64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SignatureError("signed_request is not base64url") from None


def parse_signed_request(signed_request: str, app_secret: str) -> dict[str, Any]:
    """The verified payload; SignatureError for anything that is not signed with the app secret."""
    require_secret(app_secret)
    if len(signed_request) > MAX_SIGNED_REQUEST or not signed_request.isascii():
        raise SignatureError("signed_request is malformed")
    signature_part, _, payload_part = signed_request.partition(".")
    if not signature_part or not payload_part:
        raise SignatureError("signed_request is malformed")
    same_digest(hmac_sha256(app_secret, payload_part.encode("ascii")), _unpadded_b64(signature_part))
    try:
        payload = json.loads(_unpadded_b64(payload_part).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SignatureError("signed_request payload is not JSON") from None
    if not isinstance(payload, dict) or str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise SignatureError("signed_request is not HMAC-SHA256")
    return payload


def deauthorized_user(raw_body: bytes, app_secret: str) -> str:
    """The app-scoped id of the person who removed the app, from the callback's form body."""
    try:
        form = parse_qs(raw_body.decode("ascii"), max_num_fields=5)
    except (UnicodeDecodeError, ValueError):
        raise SignatureError("the body is not a form") from None
    values = form.get("signed_request") or []
    if len(values) != 1:
        raise SignatureError("no signed_request in the body")
    payload = parse_signed_request(values[0], app_secret)
    user_id = payload.get("user_id")
    if not isinstance(user_id, (str, int)) or isinstance(user_id, bool) or not str(user_id).isdigit():
        raise SignatureError("signed_request names no user")
    return str(user_id)


def signed_request(payload: dict[str, Any], app_secret: str) -> str:
    """What Meta sends (tests sign with it)."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode("ascii")
    signature = base64.urlsafe_b64encode(hmac_sha256(app_secret, body.encode("ascii"))).rstrip(b"=").decode("ascii")
    return f"{signature}.{body}"
