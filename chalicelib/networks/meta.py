"""Facebook Pages, Messenger and Instagram: Meta's webhooks, Graph API replies, and publishing.

One Meta app delivers all three to `/webhooks/meta`; `object` tells them apart
(`page` for Page feed comments and Messenger, `instagram` for Instagram comments
and direct messages). Events carry the network `facebook` or `instagram`, as
the channels do.

Publishing (chalicelib/networks/meta_publish.py) and connecting by Facebook Login
(chalicelib/networks/meta_oauth.py, `make_oauth`) live beside this module; the
adapter below is their entry point.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any, Literal

from chalicelib.core.clock import Clock
from chalicelib.networks.base import (
    ChannelContext,
    ContentProblem,
    InboundEvent,
    NetworkLimits,
    PermanentError,
    PublicProfile,
    PublishRequest,
    PublishResult,
    RateBudget,
    ReplyRequest,
    SignatureError,
)
from chalicelib.networks.http_failures import object_at, read_json, send
from chalicelib.networks.meta_errors import GRAPH_URL, explain_error
from chalicelib.networks.webhook import (
    DIGITS,
    InboxNetworkAdapter,
    Malformed,
    ParsedWebhook,
    challenge_token,
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

SIGNATURE_HEADER = "X-Hub-Signature-256"

# The per-kind rules (photo 4 MB, video 1 GB, Instagram images JPEG only and 8 MB...) are in
# meta_publish.facebook_problems / instagram_problems; these are the widest bounds, checked first.
FACEBOOK_LIMITS = NetworkLimits(
    max_text=63206,
    max_media=10,
    media_types=("image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff", "video/mp4", "video/quicktime"),
    max_media_bytes=1024 * 1024 * 1024,
)
LIMITS = FACEBOOK_LIMITS
INSTAGRAM_LIMITS = NetworkLimits(
    max_text=2200,
    max_media=10,
    media_types=("image/jpeg", "video/mp4", "video/quicktime"),
    max_media_bytes=300 * 1024 * 1024,
    requires_media=True,
)
LIMITS_BY_NETWORK = {"facebook": FACEBOOK_LIMITS, "instagram": INSTAGRAM_LIMITS}
# Graph documents no concurrency cap; its limits are call counts and CPU time per Page / IG account over a
# rolling hour or day (Business Use Case limits), and Instagram publishes at most quota_total posts a day.
# A publish is 2 to 12 calls; two at once per account keeps a burst of carousels from spending a Page's
# CPU-time budget in one go, and 25 across Meta keeps one app's calls spread.
BUDGET = RateBudget(per_account_concurrency=2, per_network_concurrency=25)

FEED_VERBS: dict[str, Literal["created", "edited", "deleted"]] = {
    "add": "created",
    "edited": "edited",
    "remove": "deleted",
}
# hub.challenge is "an int" in Meta's documents (their sample has 10 digits).
MAX_CHALLENGE_DIGITS = 64


def verify_signature(
    raw_body: bytes, headers: Mapping[str, str], secret: str, now: datetime | None = None
) -> None:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`."""
    require_secret(secret)
    value = required_header(headers, SIGNATURE_HEADER)
    scheme, _, digest = value.partition("=")
    if scheme.lower() != "sha256" or not digest:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
    same_digest(hmac_sha256(secret, raw_body), hex_digest_bytes(digest))


def verify_subscription(query: Mapping[str, Any], verify_token: str) -> str:
    """The GET handshake: answer `hub.challenge` when the verify token matches."""
    if not verify_token:
        raise SignatureError("no verify token configured")
    if query_value(query, "hub.mode") != "subscribe":
        raise SignatureError("hub.mode is not subscribe")
    received = query_value(query, "hub.verify_token") or ""
    if not hmac.compare_digest(received.encode("utf-8"), verify_token.encode("utf-8")):
        raise SignatureError("hub.verify_token does not match")
    # Meta sends an integer; echoing only digits keeps the answer from carrying anything a caller chose.
    return challenge_token(query_value(query, "hub.challenge"), "hub.challenge", DIGITS, MAX_CHALLENGE_DIGITS)


answer_handshake = verify_subscription


def parse_webhook(payload: dict[str, Any]) -> ParsedWebhook:
    parsed = ParsedWebhook()
    kind = payload.get("object") if isinstance(payload, dict) else None
    if kind == "whatsapp_business_account":  # WhatsApp Cloud API messages: the same app, receiver and signature
        from chalicelib.networks import whatsapp

        return whatsapp.parse_entries(payload, parsed)
    if kind not in ("page", "instagram"):
        parsed.errors.append(f"object {kind!r} is not page, instagram or whatsapp_business_account")
        return parsed
    network = "facebook" if kind == "page" else "instagram"
    try:
        entries = items_of(payload, "entry")
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return parsed
    for index, entry in enumerate(entries):
        _parse_entry(network, entry, f"entry[{index}]", parsed)
    return parsed


def _parse_entry(network: str, entry: Any, where: str, parsed: ParsedWebhook) -> None:
    try:
        account_id = text_field(entry, "id")
        changes = items_of(entry, "changes")
        # `standby` carries the same messages while another app owns the thread.
        messaging = items_of(entry, "messaging") + items_of(entry, "standby")
    except Malformed as exc:
        parsed.errors.append(f"{where}: {exc}")
        return
    for index, change in enumerate(changes):
        try:
            event = _change_event(network, account_id, entry, change)
        except Malformed as exc:
            parsed.errors.append(f"{where}.changes[{index}]: {exc}")
            continue
        _keep(parsed, event)
    for index, item in enumerate(messaging):
        try:
            event = _messaging_event(network, account_id, item)
        except Malformed as exc:
            parsed.errors.append(f"{where}.messaging[{index}]: {exc}")
            continue
        _keep(parsed, event)


def _keep(parsed: ParsedWebhook, event: InboundEvent | None) -> None:
    if event is None:
        parsed.ignored += 1
    else:
        parsed.events.append(event)


def _change_event(
    network: str, account_id: str, entry: Mapping[str, Any], change: Any
) -> InboundEvent | None:
    if not isinstance(change, Mapping):
        raise Malformed("change is not an object")
    field = change.get("field")
    value = change.get("value")
    if network == "facebook" and field == "feed":
        if not isinstance(value, Mapping):
            raise Malformed("value is not an object")
        return _feed_comment(account_id, entry, value)
    if network == "instagram" and field == "comments":
        if not isinstance(value, Mapping):
            raise Malformed("value is not an object")
        return _instagram_comment(account_id, entry, value)
    return None


def _feed_comment(page_id: str, entry: Mapping[str, Any], value: Mapping[str, Any]) -> InboundEvent | None:
    if value.get("item") != "comment":
        return None
    verb = value.get("verb")
    action = FEED_VERBS.get(verb) if isinstance(verb, str) else None
    if action is None:
        return None  # hide, unhide, block...: moderation, not conversation
    comment_id = text_field(value, "comment_id")
    post_id = text_field(value, "post_id")
    author = value.get("from") if isinstance(value.get("from"), Mapping) else {}
    author_id = optional_text(author, "id") or ""
    # Every delivery of one change repeats created_time; entry.time is only a fallback.
    when_raw = value.get("created_time", entry.get("time"))
    occurred_at = moment_from_epoch(when_raw, "created_time")
    parent_id = optional_text(value, "parent_id")
    return InboundEvent(
        network="facebook",
        account_id=page_id,
        event_id=f"{comment_id}:{verb}:{int(occurred_at.timestamp())}",
        kind="comment",
        action=action,
        thread_key=post_id,
        message_id=comment_id,
        direction="outbound" if author_id == page_id else "inbound",
        text=optional_text(value, "message") or "",
        occurred_at=occurred_at,
        author_id=author_id,
        author_name=optional_text(author, "name") or "",
        # A top-level comment names the post as its parent; only a reply has a parent comment.
        parent_id=parent_id if parent_id and parent_id != post_id else None,
        reply_context={"comment_id": comment_id, "post_id": post_id, "page_id": page_id},
    )


def _instagram_comment(ig_user_id: str, entry: Mapping[str, Any], value: Mapping[str, Any]) -> InboundEvent:
    comment_id = text_field(value, "id")
    media_id = text_field(value.get("media"), "id", "media")
    author = value.get("from") if isinstance(value.get("from"), Mapping) else {}
    author_id = optional_text(author, "id") or ""
    username = optional_text(author, "username") or ""
    occurred_at = moment_from_epoch(entry.get("time"), "entry.time")
    return InboundEvent(
        network="instagram",
        account_id=ig_user_id,
        event_id=comment_id,
        kind="comment",
        action="created",
        thread_key=media_id,
        message_id=comment_id,
        direction="outbound" if author_id == ig_user_id else "inbound",
        text=optional_text(value, "text") or "",
        occurred_at=occurred_at,
        author_id=author_id,
        author_name=username,
        author_handle=username,
        parent_id=optional_text(value, "parent_id"),
        reply_context={"comment_id": comment_id, "media_id": media_id, "ig_user_id": ig_user_id},
    )


def _messaging_event(network: str, account_id: str, item: Any) -> InboundEvent | None:
    if not isinstance(item, Mapping):
        raise Malformed("messaging item is not an object")
    if "message" in item:
        return _message(network, account_id, item)
    if "message_edit" in item:
        return _message_edit(network, account_id, item)
    return None  # deliveries, reads, reactions, postbacks, referrals


def _message(network: str, account_id: str, item: Mapping[str, Any]) -> InboundEvent:
    message = item.get("message")
    if not isinstance(message, Mapping):
        raise Malformed("message is not an object")
    mid = text_field(message, "mid", "message")
    sender_id = text_field(item.get("sender"), "id", "sender")
    recipient_id = text_field(item.get("recipient"), "id", "recipient")
    outbound = message.get("is_echo") is True
    ours, other = (sender_id, recipient_id) if outbound else (recipient_id, sender_id)
    deleted = message.get("is_deleted") is True
    reply_to = message.get("reply_to")
    our_key = "page_id" if network == "facebook" else "ig_user_id"
    occurred = moment_from_epoch(item.get("timestamp"), "timestamp")
    context = {"recipient_id": other, our_key: ours, "mid": mid}
    if not outbound:  # the standard messaging window runs from the person's last message
        context["received_at"] = occurred.isoformat()
    return InboundEvent(
        network=network,
        account_id=ours or account_id,
        # The unsend of a message reuses its mid; it is a second event.
        event_id=f"{mid}:deleted" if deleted else mid,
        kind="message",
        action="deleted" if deleted else "created",
        thread_key=other,
        message_id=mid,
        direction="outbound" if outbound else "inbound",
        text=_message_text(message),
        occurred_at=occurred,
        author_id=sender_id,
        parent_id=optional_text(reply_to, "mid"),
        reply_context=context,
    )


def _message_edit(network: str, account_id: str, item: Mapping[str, Any]) -> InboundEvent:
    edit = item.get("message_edit")
    if not isinstance(edit, Mapping):
        raise Malformed("message_edit is not an object")
    mid = text_field(edit, "mid", "message_edit")
    sender_id = text_field(item.get("sender"), "id", "sender")
    recipient_id = optional_text(item.get("recipient"), "id") or account_id
    our_key = "page_id" if network == "facebook" else "ig_user_id"
    return InboundEvent(
        network=network,
        account_id=recipient_id,
        event_id=f"{mid}:edit:{optional_text(edit, 'num_edit') or '1'}",
        kind="message",
        action="edited",
        thread_key=sender_id,
        message_id=mid,
        direction="inbound",
        text=optional_text(edit, "text") or "",
        occurred_at=moment_from_epoch(item.get("timestamp"), "timestamp"),
        author_id=sender_id,
        reply_context={"recipient_id": sender_id, our_key: recipient_id, "mid": mid},
    )


def _message_text(message: Mapping[str, Any]) -> str:
    text = optional_text(message, "text")
    if text:
        return text
    attachments = message.get("attachments")
    if isinstance(attachments, list):
        kinds = [str(a.get("type")) for a in attachments if isinstance(a, Mapping) and a.get("type")]
        return " ".join(f"[{kind}]" for kind in kinds)
    return ""


class MetaAdapter(InboxNetworkAdapter):
    """Replies on a Facebook Page or an Instagram professional account.

    Credentials: `access_token` (the Page access token). Settings: `page_id`
    (Facebook; for Instagram the Page linked to the account, used by the Send
    API; `me` is used when it is missing).
    """

    def __init__(
        self,
        network: Literal["facebook", "instagram"],
        http: Any = None,
        clock: Clock | None = None,
        *,
        graph_url: str | None = None,
    ) -> None:
        self.network = network
        self.limits = FACEBOOK_LIMITS if network == "facebook" else INSTAGRAM_LIMITS
        # HERALD_META_GRAPH_URL (settings.py): the Graph API root, version included.
        self.graph_url = (graph_url or GRAPH_URL).rstrip("/")
        super().__init__(http, clock)

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        return self._publisher(channel).publish(request)

    def find_published(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        return self._publisher(channel).find_published(request)

    def content_problems(self, request: PublishRequest) -> list[ContentProblem]:
        from chalicelib.networks import meta_publish

        if self.network == "facebook":
            return meta_publish.facebook_problems(request)
        return meta_publish.instagram_problems(request)

    def _publisher(self, channel: ChannelContext) -> Any:
        from chalicelib.networks import meta_publish

        def graph(method: str, path: str, *, params: Mapping[str, Any] | None = None,
                  json: Mapping[str, Any] | None = None) -> dict[str, Any]:
            return self._call(channel, method, f"{self.graph_url}/{path}", params=params, json=json)

        if self.network == "facebook":
            page_id = _graph_id(channel.settings.get("page_id")) or "me"
            return meta_publish.FacebookPublisher(graph, page_id, self._clock.now)
        ig_user_id = _graph_id(channel.settings.get("ig_user_id"))
        if not ig_user_id:
            raise PermanentError("the Instagram channel does not know its account id (ig_user_id)")
        return meta_publish.InstagramPublisher(graph, ig_user_id, self._clock.now)

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """A Page's `name`, `about`, `website`, `picture{url}`; an Instagram professional account's `name`,
        `biography`, `website`, `profile_picture_url`."""
        if self.network == "facebook":
            page_id = _graph_id(channel.settings.get("page_id")) or "me"
            body = self._call(channel, "GET", f"{self.graph_url}/{page_id}",
                              params={"fields": "name,about,website,picture.type(large){url}"})
            picture = object_at(object_at(body, "picture"), "data").get("url")
            return PublicProfile(display_name=body.get("name"), bio=body.get("about"), link=body.get("website"),
                                 avatar_url=picture)
        ig_user_id = _graph_id(channel.settings.get("ig_user_id"))
        if not ig_user_id:
            raise PermanentError("the Instagram channel does not know its account id (ig_user_id)")
        body = self._call(channel, "GET", f"{self.graph_url}/{ig_user_id}",
                          params={"fields": "name,username,biography,website,profile_picture_url"})
        return PublicProfile(display_name=body.get("name") or body.get("username"), bio=body.get("biography"),
                             link=body.get("website"), avatar_url=body.get("profile_picture_url"),
                             handle=body.get("username"))

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        """Who the Page token belongs to, as Graph says: a Page token's `/me` is the Page itself."""
        if self.network == "facebook":
            body = self._call(channel, "GET", f"{self.graph_url}/me", params={"fields": "id,name"})
            page_id = _graph_id(body.get("id"))
            if not page_id:
                raise PermanentError("Graph returned no Page id for this token")
            return {"handle": str(body.get("name") or page_id), "account_id": page_id}
        body = self._call(
            channel, "GET", f"{self.graph_url}/me", params={"fields": "instagram_business_account{id,username}"}
        )
        account = object_at(body, "instagram_business_account")
        ig_user_id = _graph_id(account.get("id"))
        if not ig_user_id:
            raise PermanentError("this Page has no Instagram professional account linked")
        described = {"handle": str(account.get("username") or ig_user_id), "account_id": ig_user_id}
        page_id = _graph_id(body.get("id"))
        if page_id:  # the Page that sends the account's direct messages (the Send API's sender)
            described["page_id"] = page_id
        return described

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        if request.kind == "message":
            return self._send_message(channel, request)
        if request.kind != "comment":
            raise PermanentError(f"{self.network} has no {request.kind} to reply to")
        comment_id = str(request.thread.get("comment_id") or request.in_reply_to)
        if self.network == "facebook":
            url = f"{self.graph_url}/{comment_id}/comments"
        else:
            url = f"{self.graph_url}/{comment_id}/replies"
        body = self._call(channel, "POST", url, json={"message": request.text})
        return self._result(str(body.get("id", "")))

    def reply_problem(self, request: ReplyRequest) -> str | None:
        """Why a direct message cannot be sent now: Messenger's and Instagram's standard messaging window
        (24 hours from the person's last message) closed and the reply names no message tag."""
        if request.kind != "message" or request.message_tag:
            return None
        from chalicelib.networks.whatsapp import SERVICE_WINDOW, received_at

        last = received_at(request.thread)
        if last is None or self._clock.now() - last <= SERVICE_WINDOW:
            return None
        closed = (last + SERVICE_WINDOW).strftime("%Y-%m-%d %H:%M UTC")
        return (f"The 24-hour standard messaging window of this {self.network.capitalize()} conversation closed at "
                f"{closed}: only a message with a message tag (such as HUMAN_AGENT) can be sent now. Reply with a "
                "saved reply that names a message tag.")

    def _send_message(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        recipient = request.thread.get("recipient_id")
        if not recipient:
            raise PermanentError("this conversation has no recipient to answer")
        problem = self.reply_problem(request)
        if problem:
            raise PermanentError(problem)
        sender = channel.settings.get("page_id") or request.thread.get("page_id") or "me"
        # Inside the window a reply is a RESPONSE; a tagged message is MESSAGE_TAG (Send API, messaging_type).
        kind = {"messaging_type": "MESSAGE_TAG", "tag": request.message_tag} if request.message_tag else {
            "messaging_type": "RESPONSE"}
        body = self._call(
            channel,
            "POST",
            f"{self.graph_url}/{sender}/messages",
            json={"recipient": {"id": str(recipient)}, **kind, "message": {"text": request.text}},
        )
        return self._result(str(body.get("message_id", "")))

    def _result(self, remote_id: str) -> PublishResult:
        if not remote_id:
            raise PermanentError(f"{self.network} accepted the reply but returned no id")
        return PublishResult(remote_id=remote_id, published_at=self._clock.now())

    def _call(self, channel: ChannelContext, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        # A Facebook channel is connected with `page_access_token` (networks/registry.py).
        token = channel.credentials.get("access_token") or channel.credentials.get("page_access_token")
        if not token:
            raise PermanentError(f"the {self.network} channel has no access token")
        response = send(
            self.http,
            method,
            url,
            network=self.network.capitalize(),
            explain=partial(explain_error, network=self.network.capitalize()),
            headers={"Authorization": f"Bearer {token}"},
            now=self._clock.now,
            **kwargs,
        )
        body = read_json(response)
        return body if isinstance(body, dict) else {}


def _graph_id(value: Any) -> str:
    """A Graph node id: digits only, so nothing else can become a channel's account key."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() else ""


def make_adapter(
    http: Any = None,
    clock: Clock | None = None,
    *,
    network: Literal["facebook", "instagram"] = "facebook",
    base_url: str | None = None,
) -> MetaAdapter:
    return MetaAdapter(network, http=http, clock=clock, graph_url=base_url)


def make_oauth(
    http: Any = None,
    clock: Clock | None = None,
    *,
    graph_url: str | None = None,
    authorize_url: str | None = None,
    config_id: str | None = None,
) -> Any:
    """The OAuth side (`ConnectsByOAuth`): HERALD_META_GRAPH_URL, HERALD_META_AUTHORIZE_URL and
    HERALD_META_LOGIN_CONFIG_ID from settings; the app is HERALD_META_APP_ID and HERALD_META_APP_SECRET."""
    from chalicelib.networks.meta_oauth import MetaOAuth

    return MetaOAuth(http, clock, graph_url=graph_url, authorize_endpoint=authorize_url, config_id=config_id)
