"""LinkedIn: organization social action notifications in, comments out.

Signature: LinkedIn's docs say the X-LI-Signature value is "the HMACSHA256 hash
of the JSON-encoded string representation of the POST body prefixed by
`hmacsha256=`"; the string that is signed is `hmacsha256=` + raw body and the
header carries the lowercase hex digest. A header that repeats the prefix in
front of the digest is accepted too.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from chalicelib.core.clock import Clock
from chalicelib.networks.base import (
    ChannelContext,
    InboundEvent,
    NetworkLimits,
    PermanentError,
    PublishResult,
    ReplyRequest,
)
from chalicelib.networks.http_failures import ErrorDetail, read_json, send
from chalicelib.networks.webhook import (
    TOKEN_CHARS,
    InboxNetworkAdapter,
    Malformed,
    ParsedWebhook,
    challenge_token,
    header_value,
    hex_digest_bytes,
    hmac_sha256,
    items_of,
    moment_from_epoch,
    optional_text,
    query_value,
    require_secret,
    required_header,
    same_digest,
    text_field,
)

API_URL = "https://api.linkedin.com/rest"
LINKEDIN_VERSION = "202601"  # YYYYMM; LinkedIn keeps each version for about a year
RESTLI_PROTOCOL_VERSION = "2.0.0"
SIGNATURE_HEADER = "X-LI-Signature"
SIGNED_PREFIX = b"hmacsha256="
NOTIFICATION_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"
ORGANIZATION_URN = re.compile(r"urn:li:organization(Brand)?:[0-9]{1,20}")
ACL_PAGE = 100  # organizations read in one call; a member administering more names the one to connect

LIMITS = NetworkLimits(max_text=3000, max_media=9, max_media_bytes=8 * 1024 * 1024)

COMMENT_ACTIONS: dict[str, tuple[Literal["created", "edited", "deleted"], Literal["inbound", "outbound"]]] = {
    "COMMENT": ("created", "inbound"),
    "ADMIN_COMMENT": ("created", "outbound"),
    "COMMENT_EDIT": ("edited", "inbound"),
    "COMMENT_DELETE": ("deleted", "inbound"),
}
MENTION_ACTIONS = {"SHARE_MENTION", "COMMENT_MENTION", "MENTION"}


def verify_signature(
    raw_body: bytes, headers: Mapping[str, str], secret: str, now: datetime | None = None
) -> None:
    require_secret(secret)
    value = required_header(headers, SIGNATURE_HEADER)
    if value.lower().startswith(SIGNED_PREFIX.decode()):
        value = value[len(SIGNED_PREFIX) :]
    same_digest(hmac_sha256(secret, SIGNED_PREFIX + raw_body), hex_digest_bytes(value))


def challenge_response(challenge_code: str, client_secret: str) -> dict[str, str]:
    """The answer to LinkedIn's GET `?challengeCode=` endpoint validation.

    LinkedIn sends a type-4 UUID. It signs a POST as `hmacsha256=` + body with the same client secret, so a
    code of any text would yield POST signatures: only letters, digits, `-` and `_` are signed, and with no
    `=` no code can even start with the signed prefix (see `challenge_token`).
    """
    require_secret(client_secret)
    challenge_code = challenge_token(challenge_code, "challengeCode", TOKEN_CHARS)
    digest = hmac.new(client_secret.encode("utf-8"), challenge_code.encode("utf-8"), "sha256").hexdigest()
    return {"challengeCode": challenge_code, "challengeResponse": digest}


def answer_handshake(query: Mapping[str, Any], client_secret: str) -> dict[str, str]:
    return challenge_response(query_value(query, "challengeCode") or "", client_secret)


def parse_webhook(payload: dict[str, Any]) -> ParsedWebhook:
    parsed = ParsedWebhook()
    if not isinstance(payload, dict):
        parsed.errors.append("payload is not an object")
        return parsed
    try:
        notifications = items_of(payload, "notifications")
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return parsed
    if payload.get("type") != NOTIFICATION_TYPE:
        parsed.ignored += max(1, len(notifications))  # lead notifications and other families
        return parsed
    for index, notification in enumerate(notifications):
        try:
            event = _notification_event(notification)
        except Malformed as exc:
            parsed.errors.append(f"notifications[{index}]: {exc}")
            continue
        if event is None:
            parsed.ignored += 1
        else:
            parsed.events.append(event)
    return parsed


def _notification_event(notification: Any) -> InboundEvent | None:
    notification_id = text_field(notification, "notificationId")
    organization = text_field(notification, "organizationalEntity")
    action = text_field(notification, "action")
    if action not in COMMENT_ACTIONS and action not in MENTION_ACTIONS:
        return None  # LIKE, SHARE: counters, not conversation
    occurred_at = moment_from_epoch(notification.get("lastModifiedAt"), "lastModifiedAt")
    decorated = notification.get("decoratedGeneratedActivity")
    decorated = decorated if isinstance(decorated, Mapping) else {}
    generated = optional_text(notification, "generatedActivity")
    source_post = optional_text(notification, "sourcePost")
    if action in COMMENT_ACTIONS:
        comment = decorated.get("comment") if isinstance(decorated.get("comment"), Mapping) else {}
        # decorated entity is the full urn:li:comment:(urn:li:activity:..,..) form the API takes
        comment_urn = optional_text(comment, "entity") or generated
        if not comment_urn:
            raise Malformed("missing generatedActivity")
        post_urn = source_post or optional_text(comment, "object")
        if not post_urn:
            raise Malformed("missing sourcePost")
        lifecycle, direction = COMMENT_ACTIONS[action]
        author = optional_text(comment, "owner") or optional_text(comment, "actor") or ""
        return InboundEvent(
            network="linkedin",
            account_id=organization,
            event_id=notification_id,
            kind="comment",
            action=lifecycle,
            thread_key=post_urn,
            message_id=comment_urn,
            direction="outbound" if author == organization else direction,
            text=_comment_text(comment),
            occurred_at=occurred_at,
            author_id=author,
            parent_id=optional_text(comment, "parentComment"),
            reply_context={
                "organization_urn": organization,
                "object_urn": post_urn,
                "comment_urn": comment_urn,
            },
        )
    share = decorated.get("share") if isinstance(decorated.get("share"), Mapping) else {}
    mention_urn = optional_text(share, "entity") or generated or source_post
    if not mention_urn:
        raise Malformed("missing generatedActivity")
    author = optional_text(share, "owner") or ""
    return InboundEvent(
        network="linkedin",
        account_id=organization,
        event_id=notification_id,
        kind="mention",
        action="created",
        thread_key=mention_urn,
        message_id=mention_urn,
        direction="inbound",
        text=optional_text(share, "text") or "",
        occurred_at=occurred_at,
        author_id=author,
        reply_context={"organization_urn": organization, "object_urn": mention_urn},
    )


def _comment_text(comment: Mapping[str, Any]) -> str:
    text = optional_text(comment, "text")
    if text:
        return text
    message = comment.get("message")
    return optional_text(message, "text") or ""


def explain_error(response: Any) -> ErrorDetail:
    body = read_json(response)
    if isinstance(body, Mapping):
        return ErrorDetail(text=str(body.get("message") or body.get("code") or ""))
    return ErrorDetail(text=(getattr(response, "text", "") or "")[:300])


class LinkedInAdapter(InboxNetworkAdapter):
    """Comments as an organization.

    Credentials: `access_token` of an administrator (w_organization_social, rw_organization_admin).
    Settings: `organization_urn` (urn:li:organization:123), one of the organizations the
    member administers, as LinkedIn lists them.
    """

    network = "linkedin"
    limits = LIMITS

    def __init__(self, http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> None:
        super().__init__(http, clock)
        # HERALD_LINKEDIN_API_URL (settings.py): the API host; versioned APIs live under /rest.
        self.api_url = f"{base_url.rstrip('/')}/rest" if base_url else API_URL

    def describe_account(self, channel: ChannelContext) -> dict[str, Any]:
        """Every organization the token's member administers (approved), as LinkedIn's ACLs say.

        A member may administer several: the channel service picks the one the client named.
        """
        response = self._call(
            channel,
            "GET",
            f"{self.api_url}/organizationAcls",
            params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED", "count": str(ACL_PAGE)},
        )
        body = read_json(response)
        elements = body.get("elements") if isinstance(body, Mapping) else None
        organizations: list[str] = []
        for acl in elements if isinstance(elements, list) else []:
            urn = _administered(acl)
            if urn and urn not in organizations:
                organizations.append(urn)
        if not organizations:
            raise PermanentError("this LinkedIn member administers no organization")
        return {"accounts": [{"account_id": urn, "handle": urn} for urn in organizations]}

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        if request.kind == "message":
            raise PermanentError("linkedin does not let organizations answer direct messages through its API")
        actor = request.thread.get("organization_urn") or channel.settings.get("organization_urn")
        post_urn = request.thread.get("object_urn")
        if not actor or not post_urn:
            raise PermanentError("this linkedin conversation lacks the organization or post to answer on")
        body: dict[str, Any] = {"actor": actor, "object": post_urn, "message": {"text": request.text}}
        target = post_urn
        comment_urn = request.thread.get("comment_urn")
        if request.kind == "comment" and comment_urn:
            body["parentComment"] = comment_urn
            target = comment_urn
        response = self._call(
            channel, "POST", f"{self.api_url}/socialActions/{quote(str(target), safe='')}/comments", json=body
        )
        created = read_json(response)
        created = created if isinstance(created, Mapping) else {}
        remote_id = (
            optional_text(created, "commentUrn")
            or optional_text(created, "$URN")
            or header_value(response.headers or {}, "x-restli-id")
            or optional_text(created, "id")
        )
        if not remote_id:
            raise PermanentError("linkedin accepted the comment but returned no id")
        return PublishResult(remote_id=remote_id, published_at=self._clock.now())

    def _call(self, channel: ChannelContext, method: str, url: str, **kwargs: Any) -> Any:
        token = channel.credentials.get("access_token")
        if not token:
            raise PermanentError("the linkedin channel has no access token")
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
        }
        return send(
            self.http,
            method,
            url,
            network="LinkedIn",
            explain=explain_error,
            headers=headers,
            now=self._clock.now,
            **kwargs,
        )


def _administered(acl: Any) -> str | None:
    """The organization URN of an approved ADMINISTRATOR ACL (older versions call it organizationalTarget)."""
    if not isinstance(acl, Mapping) or acl.get("role") != "ADMINISTRATOR" or acl.get("state") != "APPROVED":
        return None
    urn = optional_text(acl, "organization") or optional_text(acl, "organizationalTarget")
    return urn if urn and ORGANIZATION_URN.fullmatch(urn) else None


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> LinkedInAdapter:
    return LinkedInAdapter(http=http, clock=clock, base_url=base_url)
