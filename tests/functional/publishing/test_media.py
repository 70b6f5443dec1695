"""Media uploads are held to what was declared: the presigned PUT is signed for the declared length and
type, and a stored object of another length or type is refused when a post names it and when the worker
would send it."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks.mastodon import make_adapter
from tests.fakes.mastodon_server import MastodonFake
from tests.support.factories import connect_sandbox
from tests.support.http import Api
from tests.support.publishing import publish_due
from tests.support.queues import RecordingQueue

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")



def announce(api: Api, size: int, mime: str = "image/png") -> dict[str, Any]:
    answer = api.post("/media", {"filename": "pixel.png", "mime": mime, "size": size})
    assert answer.status_code == 201, answer.body
    return answer.json


def store(aws: Any, deps: Any, workspace: Any, upload: dict[str, Any], body: bytes, mime: str) -> None:
    """What S3 keeps after a PUT (moto does not check presigned signatures; S3 does)."""
    aws["s3"].put_object(Bucket=deps.settings.media_bucket, Key=f"{workspace.id}/{upload['id']}", Body=body,
                         ContentType=mime)


def test_the_upload_url_is_signed_for_the_declared_length_and_type(api: Api) -> None:
    upload = announce(api, len(PNG))

    assert {"id", "upload_url", "expires_at"} <= upload.keys()
    assert upload["upload_method"] == "PUT"
    assert upload["upload_headers"] == {"Content-Type": "image/png", "Content-Length": str(len(PNG))}
    signed = parse_qs(urlsplit(upload["upload_url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "content-type"} <= set(signed)


@pytest.mark.parametrize(("body", "mime", "problem"), [
    (b"\x00" * (3 * 1024 * 1024), "image/png", "3145728 bytes, not the 10 declared"),
    (b"0123456789", "image/gif", "of type image/gif, not the image/png declared"),
    (b"0123456789", "text/html", "of type text/html"),
])
def test_an_upload_that_is_not_what_was_declared_is_refused_when_a_post_uses_it(
        api: Api, aws: Any, deps: Any, workspace: Any, body: bytes, mime: str, problem: str) -> None:
    channel = connect_sandbox(api)
    upload = announce(api, 10)
    store(aws, deps, workspace, upload, body, mime)

    media = api.get(f"/media/{upload['id']}").json
    assert media["status"] == "rejected" and problem in media["problem"]
    answer = api.post("/posts", {"text": "hi", "channel_ids": [channel["id"]],
                                 "media": [{"media_id": upload["id"]}]})
    assert answer.status_code == 422, answer.body
    [detail] = answer.json["error"]["details"]
    assert detail["field"] == "media.0.media_id" and problem in detail["message"]
    assert api.get("/posts").json["items"] == []


def test_an_upload_that_is_what_was_declared_is_used(api: Api, aws: Any, deps: Any, workspace: Any) -> None:
    channel = connect_sandbox(api)
    upload = announce(api, len(PNG))
    store(aws, deps, workspace, upload, PNG, "image/png")

    assert api.get(f"/media/{upload['id']}").json["status"] == "uploaded"
    assert api.post("/posts", {"text": "hi", "channel_ids": [channel["id"]],
                               "media": [{"media_id": upload["id"]}]}).status_code == 201


def test_a_swapped_upload_fails_at_publish_and_nothing_is_uploaded(api: Api, aws: Any, deps: Any, clock: Any,
                                                                   workspace: Any) -> None:
    with MastodonFake(clock=clock) as mastodon:
        deps._adapter_overrides["mastodon"] = make_adapter(clock=clock, policy=ALLOW_LOCAL_PEERS)
        deps.publish_queue = RecordingQueue()
        channel = api.post("/channels", {"network": "mastodon", "name": "Brand", "credentials": {
            "instance_url": mastodon.url, "access_token": mastodon.access_token}}).json
        upload = announce(api, 10)
        publish_at = clock.now() + timedelta(seconds=40)
        # Scheduled before the file arrived: accepted then, checked again when it is sent.
        post = api.post("/posts", {"text": "Look", "channel_ids": [channel["id"]],
                                   "publish_at": to_rfc3339(publish_at), "media": [{"media_id": upload["id"]}]})
        assert post.status_code == 201, post.body
        store(aws, deps, workspace, upload, b"\x00" * (3 * 1024 * 1024), "image/png")

        assert publish_due(deps, clock, publish_at) == ["failed"]

        delivery = api.get(f"/posts/{post.json['id']}").json["deliveries"][0]
        assert "the uploaded file is 3145728 bytes, not the 10 declared" in delivery["last_error"]
        assert (mastodon.created, mastodon.media) == ([], {})
