"""Herald's own app on the local stack, over real HTTP: what a new user does after `make run`,
including a restart in the middle. Real time, not an injected clock: this proves the timing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from infra.local.ports import free_ports
from tests.support.local_stack import eventually, local_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_user_schedules_publishes_and_finds_everything_after_a_restart(tmp_path: Path) -> None:
    state_dir, log_path = tmp_path / ".local", tmp_path / "stack.log"
    ports = free_ports(2)
    with local_stack(state_dir, log_path, ports, app="app:app", ready_path="/health") as api:
        key = (state_dir / "api-key").read_text().strip()
        headers = {"Authorization": f"Bearer {key}"}
        http = requests.Session()
        http.headers.update(headers)
        channel = http.post(f"{api}/channels", json={"network": "sandbox", "name": "Try-out"}, timeout=10).json()
        later = http.post(f"{api}/posts", json={
            "text": "Next week", "channel_ids": [channel["id"]],
            "publish_at": iso(datetime.now(UTC) + timedelta(days=7))}, timeout=10)
        assert later.status_code == 201, later.text
        now = http.post(f"{api}/posts", json={"text": "Right away", "channel_ids": [channel["id"]]}, timeout=10).json()
        asked_at = datetime.now(UTC)
        assert http.post(f"{api}/posts/{now['id']}/publish-now", timeout=10).status_code == 200
        received = eventually(lambda: http.get(f"{api}/channels/{channel['id']}/sandbox/posts", timeout=5)
                              .json()["items"], "the sandbox receiving the post", within_s=20)
        arrived = datetime.fromisoformat(received[0]["received_at"].replace("Z", "+00:00"))
        assert (arrived - asked_at).total_seconds() < 5
        assert http.get(f"{api}/posts/{now['id']}", timeout=5).json()["status"] == "published"
        feed = http.post(f"{api}/workspace/calendar-feed", timeout=5).json()["url"]  # the owner makes it

    with local_stack(state_dir, log_path, ports, app="app:app", ready_path="/health") as api:
        assert (state_dir / "api-key").read_text().strip() == key  # the demo workspace is kept, not made again
        kept = requests.get(f"{api}/posts/{later.json()['id']}", headers=headers, timeout=10).json()
        assert (kept["status"], kept["text"]) == ("scheduled", "Next week")
        assert requests.get(f"{api}/posts/{now['id']}", headers=headers, timeout=10).json()["status"] == "published"
        calendar = requests.get(feed.replace(feed.split("/calendar-feed")[0], api), timeout=10)
        assert calendar.status_code == 200 and "Next week" in calendar.text
        assert len(requests.get(f"{api}/channels/{channel['id']}/sandbox/posts", headers=headers,
                                timeout=10).json()["items"]) == 1
