from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws

from infra.local.aws_emulation import AwsClients
from infra.local.kms_keys import KmsKeyKeeper
from infra.local.provision import Provisioner
from infra.resources import resources

REGION = "us-east-1"
ACCOUNT = "123456789012"


def provision_with_keys(path: Path) -> AwsClients:
    clients = AwsClients(*(boto3.client(service, region_name=REGION)
                           for service in ("dynamodb", "sqs", "kms", "s3")))
    definitions = {logical_id: resource for logical_id, resource in resources("local").items()
                   if resource["Type"].startswith("AWS::KMS::")}
    keys = KmsKeyKeeper(path, clients.kms, ACCOUNT, REGION)
    Provisioner(clients, keys, REGION, ACCOUNT).provision(definitions)
    return clients


def test_a_ciphertext_from_before_a_restart_still_decrypts(tmp_path: Path) -> None:
    keys_file = tmp_path / "kms-keys.json"
    with mock_aws():
        clients = provision_with_keys(keys_file)
        sealed = clients.kms.encrypt(KeyId="alias/herald-local", Plaintext=b"channel token")["CiphertextBlob"]
        key_arn = clients.kms.describe_key(KeyId="alias/herald-local")["KeyMetadata"]["Arn"]

    with mock_aws():  # a fresh emulation, as after a restart
        clients = provision_with_keys(keys_file)
        assert clients.kms.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"channel token"
        assert clients.kms.describe_key(KeyId="alias/herald-local")["KeyMetadata"]["Arn"] == key_arn
        assert len(clients.kms.list_keys()["Keys"]) == 1


def test_without_the_saved_key_a_restart_cannot_decrypt(tmp_path: Path) -> None:
    with mock_aws():
        clients = provision_with_keys(tmp_path / "first.json")
        sealed = clients.kms.encrypt(KeyId="alias/herald-local", Plaintext=b"channel token")["CiphertextBlob"]

    with mock_aws():
        clients = provision_with_keys(tmp_path / "other.json")
        try:
            clients.kms.decrypt(CiphertextBlob=sealed)
        except clients.kms.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] in ("AccessDeniedException", "InvalidCiphertextException")
        else:
            raise AssertionError("a different key decrypted the ciphertext")


def test_the_saved_key_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    with mock_aws():
        provision_with_keys(tmp_path / "kms-keys.json")
    assert (tmp_path / "kms-keys.json").stat().st_mode & 0o777 == 0o600
