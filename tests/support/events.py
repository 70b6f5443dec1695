"""The one way tests read the payloads under tests/events/<source>/ (each folder's README says where they
come from: a documentation page, or a recording from which server)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def event_bytes(source: str, name: str) -> bytes:
    """The payload exactly as stored: webhook tests sign these bytes."""
    return (EVENTS / source / name).read_bytes()


def load_event(source: str, name: str) -> Any:
    return json.loads(event_bytes(source, name))
