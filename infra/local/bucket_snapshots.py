"""S3 objects saved to files in the state directory and uploaded back at start.

Each bucket gets a folder with one file per object (named by the hash of its
key) and a manifest mapping keys to files, ETags and content types.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from infra.local.state_files import SaveReport, read_json, write_atomically, write_json
from infra.local.table_snapshots import describe_error

log = logging.getLogger(__name__)


class BucketSnapshots:
    def __init__(self, s3: Any, directory: Path, bucket_names: list[str]) -> None:
        self._s3 = s3
        self._directory = directory
        self._bucket_names = bucket_names

    def _manifest_path(self, bucket: str) -> Path:
        return self._directory / bucket / "manifest.json"

    def last_good(self, bucket: str) -> str:
        return f"the last good manifest of {bucket} is {self._manifest_path(bucket)}"

    def _blob_path(self, bucket: str, blob: str) -> Path:
        return self._directory / bucket / "objects" / blob

    def save(self) -> SaveReport:
        """Bring each bucket's folder up to date."""
        report = SaveReport()
        for bucket in self._bucket_names:
            try:
                if self._save_bucket(bucket):
                    report.changed.append(bucket)
            except Exception as error:
                report.failed[bucket] = describe_error(error)
                log.error("Could not save bucket %s: %s; %s", bucket, report.failed[bucket], self.last_good(bucket))
        return report

    def _save_bucket(self, bucket: str) -> bool:
        manifest: dict[str, dict[str, Any]] = read_json(self._manifest_path(bucket), {})
        listed = self._list(bucket)
        updated = {}
        for key, etag in listed.items():
            entry = manifest.get(key)
            updated[key] = entry if entry and entry["etag"] == etag else self._download(bucket, key)
        if updated == manifest:
            return False
        write_json(self._manifest_path(bucket), updated)
        # Only once the new manifest is in place: until then the old one may still need these files.
        for key, entry in manifest.items():
            if key not in listed:
                self._blob_path(bucket, entry["blob"]).unlink(missing_ok=True)
        return True

    def _list(self, bucket: str) -> dict[str, str]:
        listed = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                listed[entry["Key"]] = entry["ETag"]
        return listed

    def _download(self, bucket: str, key: str) -> dict[str, Any]:
        answer = self._s3.get_object(Bucket=bucket, Key=key)
        blob = hashlib.sha256(key.encode("utf-8")).hexdigest()
        write_atomically(self._blob_path(bucket, blob), answer["Body"].read())
        return {"blob": blob, "etag": answer["ETag"], "content_type": answer.get("ContentType"),
                "metadata": answer.get("Metadata", {})}

    def restore(self) -> dict[str, int]:
        restored = {}
        for bucket in self._bucket_names:
            manifest: dict[str, dict[str, Any]] = read_json(self._manifest_path(bucket), {})
            kept = {}
            for key, entry in manifest.items():
                path = self._blob_path(bucket, entry["blob"])
                if not path.is_file():
                    log.warning("Saved object %s/%s has lost its file; skipping it", bucket, key)
                    continue
                extra = {"ContentType": entry["content_type"]} if entry.get("content_type") else {}
                answer = self._s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(),
                                             Metadata=entry.get("metadata") or {}, **extra)
                kept[key] = {**entry, "etag": answer["ETag"]}
            if manifest:
                write_json(self._manifest_path(bucket), kept)
                restored[bucket] = len(kept)
        return restored
