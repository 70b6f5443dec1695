"""Brand consistency through the API: the brand profile, each channel's public profile read by its adapter
(X, Mastodon and YouTube against their local fakes), avatars fetched through the outbound policy from a local
server and compared with the logo by perceptual hash; a field a network does not give (YouTube's link) is
not available, never a finding."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.jobs import run_job_by_name
from tests.fakes.mastodon_server import MastodonFake
from tests.fakes.x_api import XApi
from tests.fakes.youtube_api import YouTubeApi
from tests.support.brand_images import as_avatar_jpeg, logo_png, other_picture
from tests.support.channel_health import X_USER, connect_x, x_container
from tests.support.local_server import LocalServer
from tests.support.network_publishing import upload
from tests.support.outbound import allow_local_peers

LOGO = logo_png()
YOUTUBE_CHANNEL = "UCherald0000000000coffee"


@pytest.fixture
def x_api(clock: Any) -> Iterator[XApi]:
    with XApi(clock) as fake:
        yield fake


@pytest.fixture
def mastodon(clock: Any) -> Iterator[MastodonFake]:
    with MastodonFake(clock=clock) as fake:
        yield fake


@pytest.fixture
def youtube_api(clock: Any) -> Iterator[YouTubeApi]:
    with YouTubeApi(clock) as fake:
        yield fake


@pytest.fixture
def images() -> Iterator[LocalServer]:
    with LocalServer() as server:
        server.route("/logo_400x400.jpg", body=as_avatar_jpeg(LOGO), content_type="image/jpeg")
        server.route("/other.jpg", body=other_picture(), content_type="image/jpeg")
        yield server


@pytest.fixture
def deps(aws: Any, clock: Any, network_apis: Any, x_api: XApi, youtube_api: YouTubeApi) -> Any:
    return allow_local_peers(x_container(aws, clock, network_apis, x_api, youtube_api_url=youtube_api.api_url,
                                         youtube_upload_url=youtube_api.upload_url))


def set_up(api: Any, deps: Any, workspace: Any, x_api: XApi, mastodon: MastodonFake, clock: Any,
           images: LocalServer) -> dict[str, str]:
    logo_id = upload(api, deps, workspace.id, "logo.png", "image/png", LOGO)
    put = api.call("PUT", "/brand", {"name": "Herald", "description": "Coffee, slowly.",
                                     "keywords": ["coffee", "Istanbul"], "website": "https://herald.coffee",
                                     "logo_media_id": logo_id})
    assert put.status_code == 200, put.body
    x_row, _tokens = connect_x(deps, workspace.id, x_api, clock)
    x_api.set_profile(X_USER, name="Herald Coffee", description="Coffee roasters in Istanbul",
                      url="https://t.co/abc", entities={"url": {"urls": [
                          {"url": "https://t.co/abc", "expanded_url": "https://www.herald.coffee/"}]}},
                      profile_image_url=f"{images.url}/logo_normal.jpg")
    created = api.post("/channels", {"network": "mastodon", "name": "Herald on Mastodon", "credentials": {
        "instance_url": mastodon.url, "access_token": mastodon.access_token}})
    assert created.status_code == 201, created.body
    mastodon.set_profile(display_name="Heraldo", note_html="<p>Roasting since 2019</p>",
                         fields=[{"name": "Web", "value": '<a href="https://heraldo.example">https://heraldo.example'
                                                          "</a>", "verified_at": None}],
                         avatar=f"{images.url}/other.jpg")
    return {"x": x_row.channel_id, "mastodon": str(created.json["id"])}


def test_findings_per_channel_for_a_matching_and_a_different_profile(api: Any, deps: Any, workspace: Any,
                                                                     x_api: XApi, mastodon: MastodonFake,
                                                                     clock: Any, images: LocalServer) -> None:
    ids = set_up(api, deps, workspace, x_api, mastodon, clock, images)
    before = api.get("/brand/consistency").json
    assert (before["checked_at"], before["consistent"], before["channels"]) == (None, None, [])

    checked = api.post("/brand/consistency/check")

    assert checked.status_code == 200, checked.body
    latest = api.get("/brand/consistency").json
    assert latest == checked.json
    by_network = {c["network"]: c for c in latest["channels"]}
    assert by_network["x"]["status"] == "checked" and by_network["x"]["findings"] == []
    assert by_network["x"]["channel_id"] == ids["x"]
    codes = [f["code"] for f in by_network["mastodon"]["findings"]]
    assert codes == ["name_mismatch", "link_mismatch", "bio_missing_keywords", "avatar_not_logo"]
    avatar = by_network["mastodon"]["findings"][-1]["details"]
    assert avatar["distance"] > avatar["threshold"] == 10
    assert by_network["mastodon"]["findings"][2]["details"]["missing"] == ["coffee", "Istanbul"]
    assert sorted(a["code"] for a in latest["across_channels"]) == ["avatars_differ", "links_differ",
                                                                    "names_differ"]
    assert latest["consistent"] is False
    assert [h.path for h in images.hits] == ["/logo_400x400.jpg", "/other.jpg"]


def test_the_daily_job_checks_and_the_monthly_report_shows_it(api: Any, deps: Any, workspace: Any, x_api: XApi,
                                                              mastodon: MastodonFake, clock: Any,
                                                              images: LocalServer) -> None:
    set_up(api, deps, workspace, x_api, mastodon, clock, images)
    mastodon.set_profile(display_name="HERALD COFFEE", note_html="<p>Coffee from Istanbul</p>",
                         fields=[{"name": "Web", "value": "https://herald.coffee", "verified_at": None}],
                         avatar=f"{images.url}/logo_400x400.jpg")

    assert run_job_by_name("brand_consistency") == {"workspaces": 1, "failed": []}

    report = api.get("/reports/monthly?month=2026-03").json
    assert report["brand_consistency"]["consistent"] is True, report["brand_consistency"]
    assert all(c["findings"] == [] for c in report["brand_consistency"]["channels"])
    html = api.get("/reports/monthly?month=2026-03&format=html").body.decode()
    csv_text = api.get("/reports/monthly?month=2026-03&format=csv").body.decode("utf-8-sig")
    assert "<h2>Brand consistency</h2>" in html and "Brand consistency" in csv_text


def test_a_brand_profile_with_an_unknown_logo_is_refused_and_nothing_is_kept(api: Any) -> None:
    answer = api.call("PUT", "/brand", {"name": "Herald", "logo_media_id": "med_nope"})
    assert answer.status_code == 422
    assert answer.json["error"]["details"][0]["field"] == "logo_media_id"
    assert api.get("/brand").status_code == 404
    assert api.post("/brand/consistency/check").status_code == 404


def test_a_youtube_channel_shows_no_link_and_that_is_not_a_mismatch(api: Any, deps: Any, workspace: Any,
                                                                   x_api: XApi, mastodon: MastodonFake, clock: Any,
                                                                   images: LocalServer,
                                                                   youtube_api: YouTubeApi) -> None:
    set_up(api, deps, workspace, x_api, mastodon, clock, images)
    made = youtube_api.channel(YOUTUBE_CHANNEL, "Herald Coffee", "@heraldcoffee")
    made.description, made.avatar_url = "Coffee roasted in Istanbul, every week.", f"{images.url}/logo_400x400.jpg"
    credentials = {"access_token": youtube_api.token_for(YOUTUBE_CHANNEL),
                   "refresh_token": youtube_api.refresh_token_for(YOUTUBE_CHANNEL)}
    row = deps.channels.create(workspace.id, "youtube", "Herald on YouTube", credentials,
                               {"youtube_channel_id": YOUTUBE_CHANNEL})

    checked = api.post("/brand/consistency/check")

    assert checked.status_code == 200, checked.body
    [seen] = [c for c in api.get("/brand/consistency").json["channels"] if c["network"] == "youtube"]
    assert (seen["channel_id"], seen["status"], seen["findings"]) == (row.channel_id, "checked", [])
    assert seen["fields"] == {"display_name": "checked", "bio": "checked", "link": "not_available",
                              "avatar_url": "checked"}
    assert seen["profile"]["link"] is None and seen["profile"]["handle"] == "@heraldcoffee"
    links = [a["groups"] for a in checked.json["across_channels"] if a["code"] == "links_differ"]
    assert all(row.channel_id not in group for groups in links for group in groups)
    assert [r.query["part"] for r in youtube_api.calls("GET", r"/youtube/v3/channels")][-1] == ["snippet"]
    html = api.get("/reports/monthly?month=2026-03&format=html").body.decode()
    csv_text = api.get("/reports/monthly?month=2026-03&format=csv").body.decode("utf-8-sig")
    assert "Not available on youtube: link (not compared)." in html
    assert "Herald on YouTube,youtube,not_available,not given by youtube (not compared): link" in csv_text
