from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws

from infra.local.bucket_snapshots import BucketSnapshots

BUCKET = "herald-local-media"


def test_objects_survive_a_restart_with_their_content_type_and_metadata(tmp_path: Path) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="ws1/photo.png", Body=b"\x89PNG", ContentType="image/png",
                      Metadata={"alt": "a cat"})
        s3.put_object(Bucket=BUCKET, Key="ws1/gone.txt", Body=b"soon deleted")
        snapshots = BucketSnapshots(s3, tmp_path, [BUCKET])
        assert snapshots.save().changed == [BUCKET]
        s3.delete_object(Bucket=BUCKET, Key="ws1/gone.txt")
        assert snapshots.save().changed == [BUCKET]
        assert snapshots.save().changed == []

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        assert BucketSnapshots(s3, tmp_path, [BUCKET]).restore() == {BUCKET: 1}
        photo = s3.get_object(Bucket=BUCKET, Key="ws1/photo.png")
        assert photo["Body"].read() == b"\x89PNG"
        assert photo["ContentType"] == "image/png"
        assert photo["Metadata"] == {"alt": "a cat"}
        assert [entry["Key"] for entry in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["ws1/photo.png"]
    assert len(list((tmp_path / BUCKET / "objects").iterdir())) == 1


def test_a_bucket_that_cannot_be_read_is_reported_and_the_others_are_still_saved(tmp_path: Path) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="ws1/photo.png", Body=b"\x89PNG")
        report = BucketSnapshots(s3, tmp_path, ["herald-local-missing", BUCKET]).save()
    assert report.changed == [BUCKET]
    assert list(report.failed) == ["herald-local-missing"]
    assert "NoSuchBucket" in report.failed["herald-local-missing"]
