"""The workspace itself: its name and the time zone its days are counted in."""
from __future__ import annotations

from tests.support.http import Api

DEFAULT_LINKS = {"shorten": False, "channels": {}, "utm_campaign": None, "attribution_window_days": 7,
                 "currency": "EUR"}


def test_read_and_change_the_workspace(client, workspace):
    api = Api(client, workspace.headers("admin"))
    assert api.get("/workspace").json == {"id": workspace.id, "name": "Acme", "timezone": "UTC",
                                          "created_at": "2026-03-02T09:00:00Z", "links": DEFAULT_LINKS,
                                          "language": None}
    changed = api.patch("/workspace", {"name": "Acme Europe", "timezone": "Europe/Paris"})
    assert changed.status_code == 200, changed.body
    assert (changed.json["name"], changed.json["timezone"]) == ("Acme Europe", "Europe/Paris")
    assert api.patch("/workspace", {}).json == changed.json
    assert api.get("/workspace").json == changed.json


def test_a_time_zone_must_be_an_iana_name(client, workspace):
    api = Api(client, workspace.headers("admin"))
    before = api.get("/workspace").json
    for timezone in ("Mars/Olympus_Mons", "CEST", "../../etc/passwd", "", 2):
        response = api.patch("/workspace", {"timezone": timezone})
        assert response.status_code == 422, (timezone, response.body)
        assert [d["field"] for d in response.json["error"]["details"]] == ["timezone"]
    assert api.patch("/workspace", {"name": ""}).status_code == 422
    assert api.get("/workspace").json == before
