from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.core.settings import QUEUES
from infra.local.aws_emulation import AwsClients
from infra.local.kms_keys import KmsKeyKeeper
from infra.local.provision import Provisioner, creation_order
from infra.resources import resources

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture
def clients() -> Iterator[AwsClients]:
    with mock_aws():
        yield AwsClients(*(boto3.client(service, region_name=REGION)
                           for service in ("dynamodb", "sqs", "kms", "s3")))


def herald_keys(clients: AwsClients) -> list[str]:
    """Our keys, not the default one moto makes for DynamoDB's encryption at rest."""
    described = (clients.kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
                 for key in clients.kms.list_keys()["Keys"])
    return [key["KeyId"] for key in described if key["Description"].startswith("Herald")]


def provisioner(clients: AwsClients) -> Provisioner:
    return Provisioner(clients, KmsKeyKeeper(None, clients.kms, ACCOUNT, REGION), REGION, ACCOUNT)


def test_references_are_created_before_what_refers_to_them() -> None:
    order = creation_order(resources("local"))
    assert order.index("PublishDeadLetterQueue") < order.index("PublishQueue")
    assert order.index("SecretsKey") < order.index("SecretsKeyAlias")


def test_tables_get_their_keys_indexes_and_ttl(clients: AwsClients) -> None:
    provisioner(clients).provision(resources("local"))

    posts = clients.dynamodb.describe_table(TableName="herald-local-posts")["Table"]
    assert posts["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert sorted(index["IndexName"] for index in posts["GlobalSecondaryIndexes"]) == [
        "at_risk", "by_channel", "by_status", "by_workspace", "due"]
    ttl = clients.dynamodb.describe_time_to_live(TableName="herald-local-webhook-events")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at_epoch"}


def test_the_queue_sends_failures_to_its_dead_letter_queue_by_arn(clients: AwsClients) -> None:
    provisioner(clients).provision(resources("local"))

    url = clients.sqs.get_queue_url(QueueName="herald-local-publish")["QueueUrl"]
    attributes = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "120"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:herald-local-publish-dlq",
        "maxReceiveCount": 5}


def test_the_key_alias_encrypts_and_the_bucket_exists(clients: AwsClients) -> None:
    outputs = provisioner(clients).provision(resources("local"))

    sealed = clients.kms.encrypt(KeyId="alias/herald-local", Plaintext=b"token")["CiphertextBlob"]
    assert clients.kms.decrypt(CiphertextBlob=sealed)["KeyId"].endswith(outputs["SecretsKey"]["Ref"])
    key_id = outputs["SecretsKey"]["Ref"]
    policy = json.loads(clients.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert clients.s3.get_public_access_block(Bucket="herald-local-media")[
        "PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True


def test_provisioning_twice_changes_nothing(clients: AwsClients) -> None:
    keys = KmsKeyKeeper(None, clients.kms, ACCOUNT, REGION)
    first = Provisioner(clients, keys, REGION, ACCOUNT).provision(resources("local"))
    second = Provisioner(clients, keys, REGION, ACCOUNT).provision(resources("local"))

    assert first == second
    assert len(herald_keys(clients)) == 1
    assert len(clients.sqs.list_queues()["QueueUrls"]) == 2 * len(QUEUES)  # each with its dead-letter queue


def test_unknown_types_and_what_depends_on_them_are_skipped(
        clients: AwsClients, caplog: pytest.LogCaptureFixture) -> None:
    definitions = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": "q", "Tags": [{"Key": "topic", "Value": {"Ref": "Topic"}}]}},
        "Other": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": {"Fn::Sub": "other-${AWS::Region}"}}},
    }
    with caplog.at_level(logging.INFO):
        outputs = provisioner(clients).provision(definitions)

    assert set(outputs) == {"Other"}
    assert outputs["Other"]["QueueName"] == "other-us-east-1"
    assert "Skipping Topic: the local stack does not emulate AWS::SNS::Topic" in caplog.text
    assert "Skipping Queue: Queue needs Topic.Ref, which the local stack did not create" in caplog.text
