from tests.support.http import Api


def test_owner_connects_a_sandbox_channel_and_schedules_a_post(client, workspace):
    api = Api(client, workspace.headers())
    created = api.post("/channels", {"network": "sandbox", "name": "Test", "credentials": {"token": "s3cret"}})
    assert created.status_code == 201, created.body
    assert "credentials" not in created.json and b"s3cret" not in created.body
    channel_id = created.json["id"]
    post = api.post("/posts", {"text": "Hello", "channel_ids": [channel_id], "publish_at": "2026-03-02T10:00:00Z"})
    assert post.status_code == 201, post.body
    assert post.json["status"] == "scheduled"
    assert post.json["deliveries"][0]["status"] == "scheduled"
    got = api.get(f"/posts/{post.json['id']}")
    assert got.json["text"] == "Hello"
