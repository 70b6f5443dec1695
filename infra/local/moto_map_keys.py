"""moto answers a map entry whose key is the empty string as if it were the map itself.

moto stores `{"M": {"": {"N": "1"}}}` as sent, but its JSON serializer treats an empty key as "write
into the parent" (the convention it uses for the top of a response), so the answer reads
`{"M": {"N": "1"}}` and botocore fails to parse it: every GetItem, Query and Scan that meets such an
item raises, the app's as well as the snapshots'. Here an empty key is written as a key like any other.
"""
from __future__ import annotations

from typing import Any

_SLOT = "__empty_map_key__"


def keep_empty_map_keys() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_map
    if getattr(original, "_herald_empty_keys", False):
        return

    def serialize_map(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        map_obj = self.MAP_TYPE()
        self._default_serialize(serialized, map_obj, shape, key)
        for name, part in value.items():
            if name:
                self._serialize(map_obj, part, shape.value, name)
                continue
            wrapper = self.MAP_TYPE()
            self._serialize(wrapper, part, shape.value, _SLOT)
            if wrapper:
                map_obj[""] = next(iter(wrapper.values()))

    serialize_map._herald_empty_keys = True  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_map = serialize_map  # type: ignore[method-assign]
