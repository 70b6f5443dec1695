"""The real local stack (`python -m infra.local`, Herald's own app) and a real headless Chromium driving the
console it serves at `/`. One of each for the module: starting them is most of the time these tests take."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.ports import free_ports
from tests.fakes.linkedin_api import LinkedInApi
from tests.support.local_stack import REPO, local_stack
from tests.support.network_publishing import LI_MEMBER, LI_ORG

SCREENSHOTS = REPO / "docs" / "screenshots"


@dataclass
class Console:
    driver: Any
    url: str
    key: str
    http: requests.Session

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{self.url}{path}", timeout=10, **kwargs)
        assert answer.ok, answer.text
        return answer.json() if answer.content else None

    def unlabelled(self) -> list[str]:
        """Controls a screen reader could not name: no <label>, aria-label or aria-labelledby."""
        return list(self.driver.execute_script("""
            return [...document.querySelectorAll('input, select, textarea, button, [role=tab]')]
              .filter((c) => c.type !== 'hidden' && !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
                && !c.getAttribute('aria-labelledby') && !(c.tagName === 'BUTTON' && c.textContent.trim()))
              .map((c) => c.outerHTML.slice(0, 120));"""))

    def screenshot(self, name: str) -> None:
        assert self.unlabelled() == [], f"{name}: controls without a label"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.execute_script("const s = document.getElementById('status'); s.style.transition = 'none';"
                                   "s.classList.remove('shown');"
                                   "document.activeElement?.blur?.(); window.scrollTo(0, 0);")
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("chromium and chromedriver are not installed (make test installs the Debian packages "
                    "chromium and chromium-driver with apt-get; it could not here)")
    return browser, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    browser_path, driver_path = chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--lang=en-GB", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def linkedin() -> Iterator[LinkedInApi]:
    """LinkedIn's local fake, whose authorization page sends the person straight back with a code."""
    with LinkedInApi() as fake:
        fake.organization(LI_ORG, "Herald Coffee Co", "herald-coffee")
        fake.member(LI_MEMBER, "Ada Lovelace", organizations=(LI_ORG,))
        fake.authorizing(LI_MEMBER)
        yield fake


def operator_settings(linkedin: LinkedInApi) -> dict[str, str]:
    """LinkedIn's app pointed at the fake (README, "Connecting accounts by OAuth"); loopback redirects allowed,
    as the console on 127.0.0.1 is where the network sends the person back."""
    return {"HERALD_LINKEDIN_API_URL": linkedin.url,
            "HERALD_LINKEDIN_AUTHORIZE_URL": f"{linkedin.url}/oauth/v2/authorization",
            "HERALD_LINKEDIN_TOKEN_URL": f"{linkedin.url}/oauth/v2/accessToken",
            "HERALD_LINKEDIN_CLIENT_ID": linkedin.client_id, "HERALD_LINKEDIN_CLIENT_SECRET": linkedin.client_secret,
            "HERALD_ALLOW_PRIVATE_URLS": "1"}


@pytest.fixture(scope="module")
def console(browser: Any, linkedin: LinkedInApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    root: Path = tmp_path_factory.mktemp("console-stack")
    state_dir = root / ".local"
    with local_stack(state_dir, root / "stack.log", free_ports(2), app="app:app", ready_path="/health",
                     extra_env=operator_settings(linkedin)) as url:
        key = (state_dir / "api-key").read_text().strip()
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {key}"
        yield Console(browser, url, key, http)
