from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag

from chalicelib.core.crypto import SecretBox

SECRET = {"access_token": "tok-9f8e7d6c5b4a", "refresh_token": "ref-0a1b2c3d"}
CONTEXT = {"workspace_id": "ws_1", "channel_id": "ch_1"}
REFUSED = (ClientError, InvalidTag)  # KMS refuses the data key, or AES-GCM the ciphertext


class CountingKms:
    """The KMS client, counting the calls that cost a round trip."""

    def __init__(self, kms: Any) -> None:
        self.kms = kms
        self.decrypts = 0

    def generate_data_key(self, **kwargs: Any) -> Any:
        return self.kms.generate_data_key(**kwargs)

    def decrypt(self, **kwargs: Any) -> Any:
        self.decrypts += 1
        return self.kms.decrypt(**kwargs)


@pytest.fixture
def kms(aws: dict[str, Any]) -> CountingKms:
    return CountingKms(aws["kms"])


@pytest.fixture
def box(kms: CountingKms, deps: Any) -> SecretBox:
    return SecretBox(kms, deps.settings.kms_key_id)


def test_a_sealed_secret_opens_with_its_context(box):
    assert box.open(box.seal(SECRET, CONTEXT), CONTEXT) == SECRET


def test_the_sealed_bytes_do_not_contain_the_secret(box):
    sealed = box.seal(SECRET, CONTEXT)
    for value in SECRET.values():
        assert value.encode() not in sealed


def test_the_same_secret_seals_differently_each_time(box):
    assert box.seal(SECRET, CONTEXT) != box.seal(SECRET, CONTEXT)


def test_it_does_not_open_under_another_context(box):
    sealed = box.seal(SECRET, CONTEXT)
    for wrong in ({"workspace_id": "ws_1", "channel_id": "ch_2"}, {"workspace_id": "ws_2", "channel_id": "ch_1"},
                  {"workspace_id": "ws_1"}, {**CONTEXT, "purpose": "calendar-feed"}, {}):
        with pytest.raises(REFUSED):
            box.open(sealed, wrong)


def test_a_wrong_context_fails_even_after_the_right_one_was_cached(box):
    sealed = box.seal(SECRET, CONTEXT)
    box.open(sealed, CONTEXT)
    with pytest.raises(REFUSED):
        box.open(sealed, {"workspace_id": "ws_1", "channel_id": "ch_2"})


def test_a_tampered_blob_does_not_open(box):
    sealed = bytearray(box.seal(SECRET, CONTEXT))
    sealed[-1] ^= 0x01
    with pytest.raises(REFUSED):
        box.open(bytes(sealed), CONTEXT)


def test_an_unknown_format_version_is_refused(box):
    sealed = box.seal(SECRET, CONTEXT)
    with pytest.raises(ValueError, match="version"):
        box.open(b"\x02" + sealed[1:], CONTEXT)


def test_opening_the_same_secret_again_does_not_ask_kms_again(box, kms):
    sealed = box.seal(SECRET, CONTEXT)
    for _ in range(3):
        assert box.open(sealed, CONTEXT) == SECRET
    assert kms.decrypts == 1


def test_the_data_key_cache_is_bounded(kms, deps):
    box = SecretBox(kms, deps.settings.kms_key_id, cache_size=2)
    sealed = [box.seal({"n": n}, CONTEXT) for n in range(3)]
    for blob in sealed:
        box.open(blob, CONTEXT)
    box.open(sealed[0], CONTEXT)  # pushed out by the third
    assert kms.decrypts == 4
