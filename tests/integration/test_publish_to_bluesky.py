"""A post scheduled through Herald's API goes out to a real Bluesky PDS, image included."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.networks.bluesky import POST_COLLECTION
from tests.integration.test_bluesky_pds import PNG, new_account
from tests.support.http import Api
from tests.support.queues import RecordingQueue

pytestmark = pytest.mark.integration


def test_a_scheduled_post_reaches_the_pds_once_with_its_image(local_pds, client, workspace, deps, local_peers,
                                                              clock, aws):
    queue = RecordingQueue()
    deps.publish_queue = queue
    api = Api(client, workspace.headers())
    account = new_account(local_pds, "herald")
    channel = api.post("/channels", {"network": "bluesky", "name": "Brand on Bluesky", "credentials": {
        "service_url": local_pds.url, "handle": account["handle"], "app_password": account["password"]}})
    assert channel.status_code == 201, channel.body
    assert channel.json["handle"] == account["handle"]

    upload = api.post("/media", {"filename": "pixel.png", "mime": "image/png", "size": len(PNG)}).json
    # What a browser does with upload_url; moto intercepts boto3, not plain HTTP.
    aws["s3"].put_object(Bucket=deps.settings.media_bucket, Key=f"{workspace.id}/{upload['id']}", Body=PNG,
                         ContentType="image/png")
    assert api.get(f"/media/{upload['id']}").json["status"] == "uploaded"

    publish_at = clock.now() + timedelta(seconds=45)
    text = "Spring collection is live 🌷 https://example.com/spring #launch"
    post = api.post("/posts", {"text": text, "channel_ids": [channel.json["id"]], "publish_at": to_rfc3339(publish_at),
                               "media": [{"media_id": upload["id"], "alt": "A single pixel"}]})
    assert post.status_code == 201, post.body

    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    [(message, delay)] = queue.take()
    assert delay == 45
    assert deps.engine.publish_delivery(message) == "published"
    assert deps.engine.publish_delivery(message) == "dropped"  # SQS delivers at least once

    delivery = api.get(f"/posts/{post.json['id']}").json["deliveries"][0]
    assert delivery["status"] == "published"
    rkey = delivery["remote_id"].rsplit("/", 1)[1]
    assert delivery["remote_url"] == f"https://bsky.app/profile/{account['handle']}/post/{rkey}"
    record = local_pds.get_record(account["did"], POST_COLLECTION, rkey)["value"]
    assert record["text"] == text
    assert {f["features"][0]["$type"] for f in record["facets"]} == {
        "app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag"}
    [image] = record["embed"]["images"]
    assert image["alt"] == "A single pixel"
    assert local_pds.get_blob(account["did"], image["image"]["ref"]["$link"]) == PNG
    listed = local_pds.list_records(account["did"], POST_COLLECTION)
    assert len([r for r in listed if r["value"]["text"] == text]) == 1
