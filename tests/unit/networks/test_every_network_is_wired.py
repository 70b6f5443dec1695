"""Adding a network is one module, one fixture folder and one contract row (docs/networks.md#adding-a-network);
these hold the one-line places that name every network to it, so a new network cannot miss one:
- its options in a post's `variants[channel_id].<network>` (YouTube's, Pinterest's, Reddit's... were a 422
  "extra inputs" until the every-network test posted them);
- its base URL setting in the README; its section in docs/networks.md;
- its fixture folder with a README citing the documentation, and its row in the contract test;
- a channel of it in tests/functional/publishing/test_publish_to_every_network.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.core.settings import NETWORK_API_URLS
from chalicelib.networks.registry import NETWORKS
from chalicelib.publishing.schemas import Variant

ROOT = Path(__file__).resolve().parents[3]
PUBLISHING = sorted(name for name, spec in NETWORKS.items() if spec.can_publish)
FIXTURES = {"facebook": "meta", "instagram": "meta"}  # one Graph API, one folder


def test_every_publishing_network_takes_its_options_in_a_variant() -> None:
    missing = [name for name in PUBLISHING if name != "sandbox" and name not in Variant.model_fields]
    assert missing == [], f"add `<network>: NetworkOptions | None = None` to Variant for {missing}"


def test_every_base_url_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert [variable for variable in NETWORK_API_URLS.values() if variable not in readme] == []


@pytest.mark.parametrize("network", PUBLISHING)
def test_each_publishing_network_is_documented_fixtured_contract_tested_and_published_to(network: str) -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"| `{network}`" in readme, "a row in the README's tables (credentials, base URL)"
    assert f"| [{network}](#" in (ROOT / "docs" / "networks.md").read_text(), "a row in docs/networks.md"
    every = (ROOT / "tests" / "functional" / "publishing" / "test_publish_to_every_network.py").read_text()
    assert f'"{network}"' in every, "a channel in the every-network test"
    if network == "sandbox":
        return  # Herald's own: no documentation, no fake
    assert (ROOT / "tests" / "events" / FIXTURES.get(network, network) / "README.md").is_file()
    assert (ROOT / "tests" / "functional" / "networks" / "contract" / "cases" / f"{network}.py").is_file()
