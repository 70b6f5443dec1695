"""A week's work for one client in the web console, in a real headless Chromium against the real local stack
(real time): sign in with the demo key, connect a sandbox, compose (checked as one types) and schedule a post a
few seconds ahead and watch it turn published on the calendar, move posts to other days (by drag and by the
keyboard's "move to date", a stale version shown as changed by someone else), answer a fan, read the report.
Each main screen is saved to docs/screenshots/ (the README shows them). The tests run in order, on one stack."""
from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.console.conftest import Console
from tests.support.network_publishing import LI_ORG
from tests.support.people import TOKEN

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]

TEXT = "Fresh sourdough from 7 tomorrow"


def wait(console: Console, check: Any, within_s: float = 10, what: str = "") -> Any:
    return WebDriverWait(console.driver, within_s, poll_frequency=0.1).until(lambda _d: check(), message=what)


def find(console: Console, css: str) -> Any:
    return wait(console, lambda: console.driver.find_elements(By.CSS_SELECTOR, css), what=css)[0]


def set_value(console: Console, element: Any, value: str) -> None:
    """A date or time input's value, as the control's own picker would set it (typing into one is locale bound)."""
    console.driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, value)


def text_of(console: Console, css: str) -> str:
    """What an element says now, read in the page: screens re-render as they poll, so a held element goes stale."""
    return str(console.driver.execute_script("return document.querySelector(arguments[0])?.innerText || ''", css))


def status_text(console: Console) -> str:
    return text_of(console, "#status")


def channel_id(console: Console) -> str:
    [channel] = [c for c in console.api("GET", "/channels")["items"] if c["name"] == "Bakery"]
    return str(channel["id"])


def test_signing_in_with_the_demo_key_shows_the_calendar_and_the_time_zone(console: Console) -> None:
    console.driver.get(f"{console.url}/")
    key_field = find(console, "#api-key")
    assert text_of(console, "label[for=api-key]") == "API key"
    assert console.driver.find_elements(By.CSS_SELECTOR, "input[type=email]")  # people sign in with a password too
    console.screenshot("sign-in")
    key_field.send_keys("hrld_not_a_key")
    key_field.send_keys(Keys.ENTER)
    wait(console, lambda: "not accepted" in text_of(console, "#sign-in-problem"))

    key_field.clear()
    key_field.send_keys(console.key, Keys.ENTER)

    find(console, "#calendar-grid .day")
    timezone = console.api("GET", "/workspace")["timezone"]
    assert text_of(console, "#workspace-tz") == f"Time zone: {timezone}"


def test_a_sandbox_channel_is_connected_from_the_channels_screen(console: Console) -> None:
    find(console, "a[href='#/channels']").click()
    name = find(console, "#sandbox-name")
    name.clear()
    name.send_keys("Bakery")
    console.driver.find_element(By.ID, "sandbox-handle").send_keys("bakery")
    console.driver.find_element(By.ID, "add-sandbox").click()

    wait(console, lambda: "Bakery" in text_of(console, "#channel-list"))
    assert [c["network"] for c in console.api("GET", "/channels")["items"]] == ["sandbox"]
    console.screenshot("channels")


def test_a_linkedin_page_is_connected_by_oauth_and_comes_back_to_the_console(console: Console) -> None:
    find(console, "a[href='#/channels']").click()
    network = find(console, "#connect-network")
    network.send_keys("linkedin")  # a select takes typed option text
    assert network.get_attribute("value") == "linkedin"

    network.submit()  # to LinkedIn's authorization page, which sends the person back to the console with a code

    organization = f"input[value='urn:li:organization:{LI_ORG}']"
    account = wait(console, lambda: console.driver.find_elements(By.CSS_SELECTOR, organization), within_s=15,
                   what="the accounts the grant reached")[0]
    assert "code=" not in console.driver.current_url  # the code is spent and gone from the address bar
    assert not account.is_selected()  # several accounts: the person chooses
    account.click()
    console.driver.find_element(By.XPATH, "//button[. = 'Connect']").click()
    wait(console, lambda: "Herald Coffee Co" in text_of(console, "#channel-list"), what="the connected page")
    [page] = [c for c in console.api("GET", "/channels")["items"] if c["network"] == "linkedin"]
    assert (page["status"], page["name"]) == ("active", "Herald Coffee Co")
    assert f"Reconnect {page['name']}" in text_of(console, "#channel-list")


def png(path: Path) -> Path:
    """A real 1x1 PNG (signature, IHDR, IDAT, IEND), as a person would pick from their disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xaa\x33"))
                     + chunk(b"IEND", b""))
    return path


def test_a_post_composed_and_scheduled_seconds_ahead_turns_published_on_the_calendar(console: Console,
                                                                                    tmp_path: Path) -> None:
    find(console, "a[href='#/compose']").click()
    find(console, f"input[data-channel-id='{channel_id(console)}']").click()
    text = find(console, "#composer-text")
    console.driver.execute_script("arguments[0].value = 'x'.repeat(5001);"
                                  "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", text)
    wait(console, lambda: "5000" in text_of(console, "#composer-problems"),
         what="the API's length rule, shown as one types")
    assert text.get_attribute("aria-invalid") == "true"
    set_value(console, text, "")
    text.send_keys(TEXT)
    find(console, "#media-file").send_keys(str(png(tmp_path / "loaf.png")))
    wait(console, lambda: "loaf.png uploaded" in text_of(console, ".media"),
         what="the upload to its presigned URL")
    find(console, ".media input[type=text]").send_keys("A loaf on the counter")
    wait(console, lambda: text_of(console, "#composer-verdict") == "Ready to save.")
    timezone = console.api("GET", "/workspace")["timezone"]
    assert timezone == "UTC"  # the demo workspace's: the wall clock below is UTC
    due = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
    set_value(console, find(console, "#publish-date"), due.strftime("%Y-%m-%d"))
    set_value(console, find(console, "#publish-time"), due.strftime("%H:%M:%S"))
    assert TEXT in text_of(console, ".previews")
    console.screenshot("composer")

    console.driver.find_element(By.CSS_SELECTOR, "button[data-action=scheduled]").click()

    chip = f"#calendar-grid .day[data-date='{due.strftime('%Y-%m-%d')}'] .post"
    wait(console, lambda: TEXT[:20] in text_of(console, chip), what="the post on its day")
    [post] = console.api("GET", "/posts")["items"]
    assert post["publish_at"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    wait(console, lambda: console.driver.execute_script(
        "return document.querySelector(arguments[0])?.dataset.status", chip) == "published",
        within_s=25, what="the calendar showing it published")
    received = console.api("GET", f"/channels/{channel_id(console)}/sandbox/posts")["items"]
    assert [(r["text"], len(r["media"])) for r in received] == [(TEXT, 1)]


def type_into(console: Console, element: Any, text: str) -> None:
    """A long text as if typed (send_keys would take seconds per thousand characters)."""
    console.driver.execute_script("arguments[0].value = arguments[1];"
                                  "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", element, text)


def channel_named(console: Console, name: str) -> str:
    [channel] = [c for c in console.api("GET", "/channels")["items"] if c["name"] == name]
    return str(channel["id"])


def test_each_network_tab_previews_the_post_as_that_network_will_show_it(console: Console) -> None:
    bakery, coffee = channel_id(console), channel_named(console, "Herald Coffee Co")  # sandbox, LinkedIn page
    console.driver.get(f"{console.url}/#/compose")
    for channel in (bakery, coffee):
        find(console, f"input[data-channel-id='{channel}']").click()
    text = "Rye is back: https://bakery.example/rye " + "crust " * 520  # 3160: over LinkedIn's 3000, not the sandbox's
    type_into(console, find(console, "#composer-text"), text)

    on_bakery, on_coffee = (f"#composer-preview [data-channel-id='{channel}']" for channel in (bakery, coffee))
    wait(console, lambda: "of 3000 characters" in text_of(console, on_coffee), what="LinkedIn's count from the API")
    assert "Cut at the limit" in text_of(console, on_coffee)
    shown = console.driver.execute_script("return document.querySelector(arguments[0] + ' .post-text').textContent",
                                          on_coffee)
    assert shown == text[:3000] + "…"
    assert not console.driver.find_elements(By.CSS_SELECTOR, f"{on_coffee} .link-card")  # LinkedIn draws none
    assert "bakery.example" in text_of(console, f"{on_bakery} .link-card")
    assert "@bakery" in text_of(console, on_bakery) and "of 5000 characters" in text_of(console, on_bakery)

    find(console, f"#tab-{coffee}").click()
    assert text_of(console, "#preview-title") == "Preview on Herald Coffee Co"
    assert [e.get_attribute("data-channel-id") for e in
            console.driver.find_elements(By.CSS_SELECTOR, "#composer-preview article")] == [coffee]
    type_into(console, find(console, f"#variant-{coffee}"), "Rye is back at the bakery.")
    wait(console, lambda: "26 of 3000 characters" in text_of(console, on_coffee), what="the variant checked")
    assert "Cut at the limit" not in text_of(console, on_coffee)

    find(console, f"#tab-{bakery}").click()
    wait(console, lambda: text_of(console, "#preview-title") == "Preview on Bakery")
    type_into(console, find(console, f"#variant-{bakery}"), "Rye is back, from 7 tomorrow: https://bakery.example/rye")
    wait(console, lambda: "56 of 5000 characters" in text_of(console, on_bakery), what="the sandbox's own text")
    assert "bakery.example" in text_of(console, f"{on_bakery} .link-card")
    console.screenshot("composer-preview")
    console.driver.get(f"{console.url}/#/calendar")  # nothing saved
    find(console, "#calendar-grid .day")
    assert "Rye is back" not in str(console.api("GET", "/posts"))


def post_at(console: Console, text: str, at: datetime) -> dict[str, Any]:
    return dict(console.api("POST", "/posts", json={"text": text, "channel_ids": [channel_id(console)],
                                                    "publish_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}))


def days_in_one_month(span: int) -> datetime:
    """A day from the day after tomorrow on whose month `span` days later still falls (one calendar page)."""
    start = datetime.now(UTC) + timedelta(days=2)
    while (start + timedelta(days=span)).month != start.month:
        start += timedelta(days=1)
    return start


def open_month_of(console: Console, day: datetime) -> None:
    console.driver.get(f"{console.url}/#/calendar")
    find(console, "button[data-view=month]").click()
    if day.month != datetime.now(UTC).month:
        console.driver.find_element(By.XPATH, "//button[contains(., 'Next')]").click()
    find(console, f".day[data-date='{day.strftime('%Y-%m-%d')}']")


def test_a_post_is_dragged_to_another_day_and_keeps_its_time(console: Console) -> None:
    at = days_in_one_month(1).replace(hour=10, minute=30, second=0, microsecond=0)
    post = post_at(console, "Drag me", at)
    target = (at + timedelta(days=1)).strftime("%Y-%m-%d")
    open_month_of(console, at)
    source = find(console, f"[data-post-id='{post['id']}']")

    # HTML5 drag and drop as the browser dispatches it (WebDriver's own drag does not fire these in Chromium).
    console.driver.execute_script("""
        const [source, target] = arguments; const data = new DataTransfer();
        source.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));
        target.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));
        target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
    """, source, find(console, f".day[data-date='{target}']"))

    wait(console, lambda: console.api("GET", f"/posts/{post['id']}")["publish_at"]
         == f"{target}T10:30:00Z", what="the post moved, at the same time of day")
    find(console, f".day[data-date='{target}'] [data-post-id='{post['id']}']")


def test_a_post_is_moved_by_keyboard_and_a_stale_version_is_changed_by_someone_else(console: Console) -> None:
    at = days_in_one_month(3).replace(hour=15, minute=0, second=0, microsecond=0)
    post = post_at(console, "Move me", at)
    open_month_of(console, at)
    find(console, f"[data-post-id='{post['id']}']").send_keys(Keys.ENTER)  # a button: Enter opens it
    moved_to = (at + timedelta(days=3)).strftime("%Y-%m-%d")
    set_value(console, find(console, "#move-date"), moved_to)
    console.api("PATCH", f"/posts/{post['id']}", json={"text": "Move me (edited)", "version": post["version"]})

    find(console, "#move-submit").send_keys(Keys.ENTER)
    wait(console, lambda: "Changed by someone else" in status_text(console))
    assert console.api("GET", f"/posts/{post['id']}")["publish_at"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")

    wait(console, lambda: "Move me (edited)" in text_of(console, "#post-dialog"), what="the post read again")
    set_value(console, find(console, "#move-date"), moved_to)
    find(console, "#move-submit").send_keys(Keys.ENTER)
    wait(console, lambda: console.api("GET", f"/posts/{post['id']}")["publish_at"] == f"{moved_to}T15:00:00Z")
    find(console, f".day[data-date='{moved_to}'] [data-post-id='{post['id']}']")
    console.screenshot("calendar")


def test_a_fans_comment_is_answered_from_the_inbox(console: Console) -> None:
    channel = channel_id(console)
    console.driver.get(f"{console.url}/#/inbox")
    find(console, "#conversation-list")
    console.api("POST", f"/channels/{channel}/sandbox/messages",
                json={"text": "Do you have rye on Saturday?", "author_name": "Ada"})

    wait(console, lambda: "Ada" in text_of(console, "button.conversation"), within_s=15,
         what="the new message appearing without a reload")
    find(console, "button.conversation").click()
    reply = find(console, "#reply-text")
    reply.send_keys("Yes, from 8!")
    console.driver.find_element(By.ID, "send-reply").click()

    wait(console, lambda: "Yes, from 8!" in text_of(console, ".messages"))
    received = console.api("GET", f"/channels/{channel}/sandbox/posts")["items"]
    assert ("reply", "Yes, from 8!") in [(r["kind"], r["text"]) for r in received]
    find(console, "#assignee").send_keys("sam", Keys.ENTER)
    wait(console, lambda: console.api("GET", "/inbox/conversations")["items"][0]["assignee"] == "sam")
    console.screenshot("inbox")


def test_the_monthly_report_shows_its_charts_and_offers_its_csv(console: Console) -> None:
    console.driver.get(f"{console.url}/#/reports")
    frame = find(console, "#report-frame")
    wait(console, lambda: frame.get_attribute("srcdoc"), what="the report")
    download = find(console, "#report-csv")
    wait(console, lambda: download.is_displayed() and download.get_attribute("href").startswith("blob:"))
    console.driver.switch_to.frame(frame)
    try:
        assert console.driver.find_elements(By.CSS_SELECTOR, "svg")
    finally:
        console.driver.switch_to.default_content()
    console.screenshot("reports")


def test_the_calendar_fits_a_phone(console: Console) -> None:
    console.driver.set_window_size(390, 844)
    try:
        console.driver.get(f"{console.url}/#/calendar")
        find(console, "#calendar-grid .day")
        width = console.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390
        console.screenshot("calendar-phone")
    finally:
        console.driver.set_window_size(1280, 900)


PERSON, PASSWORD, CLIENT = "ana@agency.example", "Correct-horse-42", "client@brand.example"


def mailed(console: Console, to: str, pattern: re.Pattern[str]) -> str:
    """The newest match of `pattern` in the mail sent to `to`, read back from the local stack's GET /dev/mail."""
    for message in console.api("GET", "/dev/mail")["items"]:
        found = pattern.search(message["body"]) if to in message["to"] else None
        if found:
            return found.group(1)
    raise AssertionError(f"nothing matching {pattern.pattern} was mailed to {to}")


def invited_person(console: Console) -> str:
    """Ana, invited to the demo workspace as README "People and sign-in" does it; she also makes an agency with a
    client workspace of her own, so she has two to pick from. Her access token."""
    console.api("POST", "/invitations", json={"email": PERSON, "role": "editor"})
    token = mailed(console, PERSON, TOKEN)
    anonymous = console.http.__class__()
    assert anonymous.post(f"{console.url}/invitations/accept", json={"token": token, "password": PASSWORD},
                          timeout=10).ok
    signed_in = anonymous.post(f"{console.url}/auth/sign-in", json={"email": PERSON, "password": PASSWORD}, timeout=10)
    bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert anonymous.post(f"{console.url}/agencies", json={"name": "Northwind"}, headers=bearer, timeout=10).ok
    assert anonymous.post(f"{console.url}/agency/workspaces", json={"name": "Blue Bakery", "timezone": "Europe/Paris"},
                          headers=bearer, timeout=10).ok
    return str(signed_in.json()["access_token"])


def test_a_person_signs_in_with_email_and_password_and_picks_a_workspace(console: Console) -> None:
    invited_person(console)
    demo = console.api("GET", "/workspace")
    console.driver.get(f"{console.url}/#/calendar")
    find(console, "#sign-out").click()
    find(console, "input[name=email]").send_keys(PERSON)
    find(console, "input[name=password]").send_keys("not-her-password", Keys.ENTER)
    wait(console, lambda: text_of(console, "#sign-in-problem"), what="a wrong password refused")
    password = find(console, "input[name=password]")
    password.clear()
    password.send_keys(PASSWORD, Keys.ENTER)

    picker = find(console, "#workspace-pick")
    wait(console, picker.is_displayed, what="the signed-in shell with the workspace picker")
    assert sorted(o.text for o in Select(picker).options) == sorted(["Blue Bakery", demo["name"]])
    Select(picker).select_by_visible_text("Blue Bakery")
    wait(console, lambda: text_of(console, "#workspace-tz") == "Time zone: Europe/Paris", what="the other workspace")
    assert text_of(console, "#workspace-name") == "Blue Bakery"
    Select(find(console, "#workspace-pick")).select_by_visible_text(demo["name"])
    wait(console, lambda: text_of(console, "#workspace-name") == demo["name"], what="back to the demo workspace")
    find(console, "#calendar-grid .day")


def test_a_client_approves_from_the_emailed_link_and_the_post_goes_out(console: Console) -> None:
    console.api("PUT", "/workspace/approval", json={"steps": [{"name": "Client sign-off", "reviewers": [CLIENT]}]})
    try:
        due = (datetime.now(UTC) + timedelta(seconds=12)).replace(microsecond=0)
        post = post_at(console, "Approve me, client", due)
        assert post["status"] == "pending_approval"
        link = mailed(console, CLIENT, re.compile(r"(https?://\S+/#/review/[A-Za-z0-9_-]+)"))
        assert link.startswith(f"{console.url}/#/review/")  # the console's page, not the API's route

        console.driver.get(link)
        wait(console, lambda: "Approve me, client" in text_of(console, "#main"), what="the post to review")
        console.screenshot("review")
        find(console, "#main .actions button.primary").click()
        wait(console, lambda: "thank you" in status_text(console), what="the approval taken")
        assert console.api("GET", f"/posts/{post['id']}")["status"] in ("scheduled", "published")

        console.driver.get(f"{console.url}/#/calendar")
        chip = f"[data-post-id='{post['id']}']"
        wait(console, lambda: console.driver.execute_script(
            "return document.querySelector(arguments[0])?.dataset.status", chip) == "published",
            within_s=40, what="the approved post published on the calendar")
    finally:
        console.api("PUT", "/workspace/approval", json={"steps": []})


def test_a_client_asks_for_changes_with_a_comment_and_the_team_sees_it_on_the_post(console: Console) -> None:
    console.api("PUT", "/workspace/approval", json={"steps": [{"name": "Client sign-off", "reviewers": [CLIENT]}]})
    try:
        post = post_at(console, "Reject me, client", (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0))
        link = mailed(console, CLIENT, re.compile(r"(https?://\S+/#/review/[A-Za-z0-9_-]+)"))
        console.driver.get(link)
        wait(console, lambda: "Reject me, client" in text_of(console, "#main"), what="the post to review")
        find(console, "#review-comment").send_keys("Please use the spring photo")
        console.driver.find_element(By.XPATH, "//button[. = 'Ask for changes']").click()
        wait(console, lambda: "Ask for changes: thank you" in status_text(console), what="the rejection taken")

        rejected = console.api("GET", f"/posts/{post['id']}")
        assert (rejected["status"], rejected["approval"]["status"]) == ("draft", "rejected")
        assert rejected["approval"]["decisions"][-1]["comment"] == "Please use the spring photo"

        console.driver.get(f"{console.url}/#/calendar/post/{post['id']}")  # the link a member's email carries
        wait(console, lambda: "Please use the spring photo" in text_of(console, "#post-approval"),
             what="the client's reason on the post, for the team")
        assert "Changes requested" in text_of(console, "#post-dialog")
        assert CLIENT in text_of(console, "#post-approval")
        assert console.driver.execute_script(
            "return document.querySelector(arguments[0]).dataset.status", f"[data-post-id='{post['id']}']") == "draft"
        console.screenshot("post-changes-requested")
        console.driver.execute_script("document.getElementById('post-dialog').close()")
    finally:
        console.api("PUT", "/workspace/approval", json={"steps": []})


def as_person(console: Console) -> tuple[str, dict[str, str]]:
    """Ana's access token (signed in again over HTTP) and the id of her own Blue Bakery workspace."""
    signed_in = requests.post(f"{console.url}/auth/sign-in", json={"email": PERSON, "password": PASSWORD}, timeout=10)
    token = signed_in.json()["access_token"]
    me = requests.get(f"{console.url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    [paris] = [w["id"] for w in me["workspaces"] if w["name"] == "Blue Bakery"]
    return token, {"Authorization": f"Bearer {token}", "X-Herald-Workspace": paris}


def test_the_week_view_puts_a_post_on_its_day_in_the_workspaces_time_zone(console: Console) -> None:
    _token, paris = as_person(console)
    channel = requests.post(f"{console.url}/channels", headers=paris, timeout=10,
                            json={"network": "sandbox", "name": "Paris shop", "settings": {"handle": "paris"}})
    assert channel.status_code == 201, channel.text
    at = (datetime.now(UTC) + timedelta(days=8)).replace(hour=23, minute=30, second=0, microsecond=0)
    made = requests.post(f"{console.url}/posts", headers=paris, timeout=10,
                         json={"text": "Late croissants", "channel_ids": [channel.json()["id"]],
                               "publish_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert made.status_code == 201, made.text
    local = at.astimezone(ZoneInfo("Europe/Paris"))  # 00:30 or 01:30 the next day there
    assert local.date() != at.date()

    console.driver.get(f"{console.url}/#/calendar")
    Select(find(console, "#workspace-pick")).select_by_visible_text("Blue Bakery")
    wait(console, lambda: text_of(console, ".tz-note") == "Times in Europe/Paris", what="the Paris calendar")
    assert text_of(console, "#workspace-tz") == "Time zone: Europe/Paris"
    find(console, "button[data-view=week]").click()
    column = f".calendar.week .day[data-date='{local.strftime('%Y-%m-%d')}']"
    wait(console, lambda: text_of(console, "#calendar-title").startswith("Week of"))
    for _ in range(3):  # the post is 8 or 9 days ahead: one or two weeks on
        if console.driver.find_elements(By.CSS_SELECTOR, column):
            break
        before = text_of(console, "#calendar-title")
        console.driver.find_element(By.XPATH, "//button[contains(., 'Next')]").click()
        wait(console, lambda: text_of(console, "#calendar-title") != before, what="the next week")  # noqa: B023
    chip = f"{column} [data-post-id='{made.json()['id']}']"
    wait(console, lambda: "Late croissants" in text_of(console, chip), what="the post in its Paris day's column")
    assert text_of(console, f"{chip} .time") == local.strftime("%H:%M")
    assert not console.driver.find_elements(
        By.CSS_SELECTOR, f".day[data-date='{at.strftime('%Y-%m-%d')}'] [data-post-id='{made.json()['id']}']")
    assert len(console.driver.find_elements(By.CSS_SELECTOR, ".calendar.week .day")) == 7
    console.screenshot("calendar-week")
    find(console, "button[data-view=month]").click()
    Select(find(console, "#workspace-pick")).select_by_visible_text(console.api("GET", "/workspace")["name"])
    wait(console, lambda: text_of(console, "#workspace-tz") == "Time zone: UTC", what="back to the demo workspace")


def test_signing_out_ends_the_persons_token_at_the_api(console: Console) -> None:
    console.driver.get(f"{console.url}/#/calendar")
    find(console, "#calendar-grid .day")
    token = console.driver.execute_script("return sessionStorage.getItem('herald.token')")
    assert token and token.count(".") == 2  # Ana's access token, from signing in with her password
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{console.url}/me", headers=bearer, timeout=10).status_code == 200

    find(console, "#sign-out").click()

    find(console, "#api-key")
    assert console.driver.execute_script(
        "return [sessionStorage.getItem('herald.token'), localStorage.getItem('herald.token')]") == [None, None]
    refused = requests.get(f"{console.url}/me", headers=bearer, timeout=10)
    assert refused.status_code == 401, refused.text
