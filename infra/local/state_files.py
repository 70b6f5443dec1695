"""Files in the state directory are replaced whole (temporary file, fsync, then rename), never half-written:
a write that fails at any point leaves the previous file as it was."""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class Writer(Protocol):
    def __call__(self, path: Path, data: bytes | Iterable[bytes], mode: int = 0o644) -> None: ...


@dataclass
class SaveReport:
    """What one save did: the tables or buckets it wrote, and those it could not write, with why."""
    changed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def merge(self, other: SaveReport) -> SaveReport:
        return SaveReport(self.changed + other.changed, {**self.failed, **other.failed})


def write_atomically(path: Path, data: bytes | Iterable[bytes], mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in [data] if isinstance(data, bytes) else data:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """So the rename itself survives a power cut, not only the file's bytes."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_json(path: Path, value: Any, mode: int = 0o644) -> None:
    write_atomically(path, json.dumps(value, indent=1, sort_keys=True).encode("utf-8"), mode)


def read_json(path: Path, default: Any = None) -> Any:
    if not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8"))
