"""Envelope encryption for secrets at rest (channel credentials).

KMS makes a data key per secret; the secret is sealed with AES-GCM under that
key, and only the KMS-encrypted data key is stored beside it. The workspace and
channel ids are bound in as KMS encryption context and AES-GCM associated data,
so a sealed blob copied to another channel does not open.
"""
from __future__ import annotations

import json
import os
import struct
from collections import OrderedDict
from typing import Any

VERSION = 1


class SecretBox:
    def __init__(self, kms_client: Any, key_id: str, cache_size: int = 256) -> None:
        self._kms = kms_client
        self._key_id = key_id
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._cache_size = cache_size

    def seal(self, secret: dict[str, Any], context: dict[str, str]) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        answer = self._kms.generate_data_key(KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=context)
        nonce = os.urandom(12)
        plaintext = json.dumps(secret, separators=(",", ":")).encode()
        ciphertext = AESGCM(answer["Plaintext"]).encrypt(nonce, plaintext, _aad(context))
        wrapped = answer["CiphertextBlob"]
        return struct.pack(">BH", VERSION, len(wrapped)) + wrapped + nonce + ciphertext

    def open(self, sealed: bytes, context: dict[str, str]) -> dict[str, Any]:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        version, length = struct.unpack(">BH", sealed[:3])
        if version != VERSION:
            raise ValueError(f"unknown sealed-secret version {version}")
        wrapped = sealed[3:3 + length]
        nonce = sealed[3 + length:15 + length]
        ciphertext = sealed[15 + length:]
        data_key = self._data_key(wrapped, context)
        return json.loads(AESGCM(data_key).decrypt(nonce, ciphertext, _aad(context)))

    def _data_key(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        cache_key = wrapped + _aad(context)
        if cache_key in self._cache:
            self._cache.move_to_end(cache_key)
            return self._cache[cache_key]
        key = self._kms.decrypt(CiphertextBlob=wrapped, EncryptionContext=context)["Plaintext"]
        self._cache[cache_key] = key
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return key


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()
