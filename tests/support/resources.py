"""Creates the stage's resources from infra/resources.py in whatever AWS the
clients point at (moto in tests)."""
from __future__ import annotations

from typing import Any

from infra.resources import resources


def create_resources(stage: str, dynamodb: Any, sqs: Any, kms: Any, s3: Any) -> dict[str, str]:
    created: dict[str, str] = {}
    defs = resources(stage)
    queue_arns: dict[str, str] = {}
    ordered = sorted(defs.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
    key_ids: dict[str, str] = {}
    for logical_id, resource in ordered:
        props = resource["Properties"]
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            args = {k: v for k, v in props.items() if k in (
                "TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")}
            dynamodb.create_table(**args)
        elif kind == "AWS::SQS::Queue":
            attributes = {k: str(v) for k, v in props.items() if k not in ("QueueName", "RedrivePolicy")}
            if "RedrivePolicy" in props:
                target = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                attributes["RedrivePolicy"] = (
                    f'{{"deadLetterTargetArn":"{queue_arns[target]}",'
                    f'"maxReceiveCount":"{props["RedrivePolicy"]["maxReceiveCount"]}"}}')
            url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
            queue_arns[logical_id] = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            created[props["QueueName"]] = url
        elif kind == "AWS::KMS::Key":
            key_ids[logical_id] = kms.create_key(Description=props.get("Description", ""))["KeyMetadata"]["KeyId"]
        elif kind == "AWS::S3::Bucket":
            s3.create_bucket(Bucket=props["BucketName"])
    for resource in defs.values():
        if resource["Type"] == "AWS::KMS::Alias":
            props = resource["Properties"]
            kms.create_alias(AliasName=props["AliasName"], TargetKeyId=key_ids[props["TargetKeyId"]["Ref"]])
    return created
