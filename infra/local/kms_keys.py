"""Keeps the local KMS keys the same across restarts, so ciphertexts stored before a restart still decrypt.

moto 5.2 has neither ImportKeyMaterial nor a way to choose a key's id (its
`_custom_id_` tag is not honoured by KMS), and a moto ciphertext names its key
id and is sealed with that key's random material. So the first time a key is
created we write its id and material to the state directory, and after a restart
we give the freshly created key that id and material back inside the in-process
moto backend. This is the one place the local stack reaches into moto.
"""
from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

from infra.local.state_files import read_json, write_json

log = logging.getLogger(__name__)


class KmsKeyKeeper:
    def __init__(self, path: Path | None, kms: Any, account_id: str, region: str) -> None:
        self._path = path
        self._kms = kms
        self._account_id = account_id
        self._region = region
        self._saved: dict[str, dict[str, str]] = read_json(path, {}) if path else {}

    def _backend(self) -> Any:
        from moto.kms.models import kms_backends

        return kms_backends[self._account_id][self._region]

    def find(self, logical_id: str) -> str | None:
        """The key made for `logical_id`, if it exists in the emulation now."""
        entry = self._saved.get(logical_id)
        if entry and entry["key_id"] in self._backend().keys:
            return entry["key_id"]
        return None

    def keep(self, logical_id: str, key_id: str) -> str:
        """Remember a new key, or turn it into the one remembered from an earlier run. Returns the key id."""
        backend = self._backend()
        key = backend.keys[key_id]
        entry = self._saved.get(logical_id)
        if entry is None:
            self._saved[logical_id] = {
                "key_id": key_id, "material": base64.b64encode(key.key_material).decode("ascii")}
            if self._path:
                write_json(self._path, self._saved, mode=0o600)
            return key_id
        saved_id = entry["key_id"]
        del backend.keys[key_id]
        key.id = saved_id
        key.arn = key.arn.replace(key_id, saved_id)
        key.key_material = base64.b64decode(entry["material"])
        backend.keys[saved_id] = key
        log.debug("KMS key %s restored as %s", logical_id, saved_id)
        return saved_id
