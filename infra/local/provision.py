"""Creates CloudFormation resource definitions in the AWS emulation with boto3.

The definitions come from `infra.resources`, the same ones deployed to AWS, so
the local stack cannot drift from them. Only the resource types and properties
the local stack needs are understood; other types are logged and skipped.
Running it twice changes nothing.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from graphlib import TopologicalSorter
from typing import Any

from botocore.exceptions import ClientError

from infra.local.aws_emulation import AwsClients
from infra.local.kms_keys import KmsKeyKeeper

log = logging.getLogger(__name__)

Resource = dict[str, Any]
Outputs = dict[str, Any]  # "Ref" and the Fn::GetAtt attribute names of one created resource


class ProvisioningError(RuntimeError):
    pass


def _references(value: Any) -> set[str]:
    """Logical ids a property value refers to (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            found.add(value["Ref"])
        elif set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".", 1)[0])
        elif set(value) == {"Fn::Sub"}:
            template = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found.update(name.split(".", 1)[0] for name in re.findall(r"\$\{([^}!]+)\}", template))
        for inner in value.values():
            found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return {name for name in found if not name.startswith("AWS::")}


def creation_order(resources: dict[str, Resource]) -> list[str]:
    graph = {logical_id: _references(resource.get("Properties", {})) & set(resources)
             for logical_id, resource in resources.items()}
    return list(TopologicalSorter(graph).static_order())


class Provisioner:
    def __init__(self, clients: AwsClients, keys: KmsKeyKeeper, region: str, account_id: str) -> None:
        self._clients = clients
        self._keys = keys
        self._region = region
        self._account_id = account_id
        self._outputs: dict[str, Outputs] = {}
        self._creators: dict[str, Callable[[str, Resource], Outputs]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::KMS::Key": self._key,
            "AWS::KMS::Alias": self._alias,
            "AWS::S3::Bucket": self._bucket,
        }
        if clients.cognito is not None:
            from infra.local import cognito_pool

            self._creators["AWS::Cognito::UserPool"] = lambda _id, props: cognito_pool.user_pool(
                clients.cognito, props)
            self._creators["AWS::Cognito::UserPoolClient"] = lambda _id, props: cognito_pool.user_pool_client(
                clients.cognito, props)

    def provision(self, resources: dict[str, Resource]) -> dict[str, Outputs]:
        for logical_id in creation_order(resources):
            resource = resources[logical_id]
            creator = self._creators.get(resource["Type"])
            if creator is None:
                log.info("Skipping %s: the local stack does not emulate %s", logical_id, resource["Type"])
                continue
            try:
                properties = self._resolve(resource.get("Properties", {}), logical_id)
            except ProvisioningError as error:
                log.warning("Skipping %s: %s", logical_id, error)
                continue
            self._outputs[logical_id] = creator(logical_id, properties)
        return dict(self._outputs)

    # -- intrinsic functions -------------------------------------------------------------------

    def _pseudo(self, name: str) -> str | None:
        return {"AWS::AccountId": self._account_id, "AWS::Region": self._region,
                "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": "local"}.get(name)

    def _output(self, logical_id: str, attribute: str, needed_by: str) -> Any:
        outputs = self._outputs.get(logical_id)
        if outputs is None or attribute not in outputs:
            raise ProvisioningError(
                f"{needed_by} needs {logical_id}.{attribute}, which the local stack did not create")
        return outputs[attribute]

    def _resolve(self, value: Any, needed_by: str) -> Any:
        if isinstance(value, list):
            return [self._resolve(inner, needed_by) for inner in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            pseudo = self._pseudo(value["Ref"])
            return pseudo if pseudo is not None else self._output(value["Ref"], "Ref", needed_by)
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            logical_id, attribute = target if isinstance(target, list) else target.split(".", 1)
            return self._output(logical_id, attribute, needed_by)
        if set(value) == {"Fn::Sub"}:
            return self._substitute(value["Fn::Sub"], needed_by)
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(part) for part in self._resolve(parts, needed_by))
        return {key: self._resolve(inner, needed_by) for key, inner in value.items()}

    def _substitute(self, sub: str | list[Any], needed_by: str) -> str:
        if isinstance(sub, str):
            template, variables = sub, {}
        else:
            template, variables = sub[0], self._resolve(sub[1], needed_by)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            pseudo = self._pseudo(name)
            if pseudo is not None:
                return pseudo
            logical_id, _, attribute = name.partition(".")
            return str(self._output(logical_id, attribute or "Ref", needed_by))

        return re.sub(r"\$\{([^}!]+)\}", replace, template)

    # -- DynamoDB ------------------------------------------------------------------------------

    def _table(self, logical_id: str, props: Resource) -> Outputs:
        dynamodb = self._clients.dynamodb
        name = props["TableName"]
        try:
            description = dynamodb.describe_table(TableName=name)["Table"]
            log.debug("Table %s already exists", name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            description = dynamodb.create_table(**_create_table_arguments(props))["TableDescription"]
            indexes = len(props.get("GlobalSecondaryIndexes", []))
            log.info("Created table %s%s", name, f" with {indexes} index(es)" if indexes else "")
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"], "Enabled": True})
        outputs = {"Ref": name, "Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            outputs["StreamArn"] = description["LatestStreamArn"]
        return outputs

    # -- SQS -----------------------------------------------------------------------------------

    def _queue(self, logical_id: str, props: Resource) -> Outputs:
        sqs = self._clients.sqs
        name = props.get("QueueName") or logical_id
        attributes = _queue_attributes(props)
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            if attributes:
                sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
            log.debug("Queue %s already exists", name)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("AWS.SimpleQueueService.NonExistentQueue",
                                                       "QueueDoesNotExist"):
                raise
            url = sqs.create_queue(QueueName=name, Attributes=attributes,
                                   **_tags_argument(props, "tags"))["QueueUrl"]
            log.info("Created queue %s", name)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    # -- KMS -----------------------------------------------------------------------------------

    def _key(self, logical_id: str, props: Resource) -> Outputs:
        kms = self._clients.kms
        key_id = self._keys.find(logical_id)
        if key_id is None:
            arguments: dict[str, Any] = {
                "Description": props.get("Description", ""),
                "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
                "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            }
            if props.get("KeyPolicy"):
                policy = props["KeyPolicy"]
                arguments["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
            key_id = kms.create_key(**arguments)["KeyMetadata"]["KeyId"]
            key_id = self._keys.keep(logical_id, key_id)
            if props.get("EnableKeyRotation"):
                kms.enable_key_rotation(KeyId=key_id)
            log.info("Created KMS key %s (%s)", logical_id, key_id)
        arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
        return {"Ref": key_id, "Arn": arn, "KeyId": key_id}

    def _alias(self, logical_id: str, props: Resource) -> Outputs:
        kms = self._clients.kms
        name, target = props["AliasName"], props["TargetKeyId"]
        existing = {alias["AliasName"]: alias.get("TargetKeyId")
                    for page in kms.get_paginator("list_aliases").paginate() for alias in page["Aliases"]}
        if name not in existing:
            kms.create_alias(AliasName=name, TargetKeyId=target)
            log.info("Created KMS alias %s", name)
        elif existing[name] != target:
            kms.update_alias(AliasName=name, TargetKeyId=target)
        return {"Ref": name}

    # -- S3 ------------------------------------------------------------------------------------

    def _bucket(self, logical_id: str, props: Resource) -> Outputs:
        s3 = self._clients.s3
        name = props.get("BucketName") or logical_id.lower()
        try:
            s3.head_bucket(Bucket=name)
            log.debug("Bucket %s already exists", name)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
                raise
            location = {} if self._region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self._region}}
            s3.create_bucket(Bucket=name, **location)
            log.info("Created bucket %s", name)
        if props.get("PublicAccessBlockConfiguration"):
            s3.put_public_access_block(Bucket=name,
                                       PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
        if props.get("BucketEncryption"):
            configuration = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            rules = [_encryption_rule(rule) for rule in configuration]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if props.get("CorsConfiguration"):
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={
                "CORSRules": [_cors_rule(rule) for rule in props["CorsConfiguration"]["CorsRules"]]})
        return {"Ref": name, "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com"}


_TABLE_ARGUMENTS = ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes",
                    "LocalSecondaryIndexes", "ProvisionedThroughput", "TableClass",
                    "DeletionProtectionEnabled")


def _create_table_arguments(props: Resource) -> dict[str, Any]:
    arguments = {name: props[name] for name in _TABLE_ARGUMENTS if name in props}
    stream = props.get("StreamSpecification")
    if stream:
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    sse = props.get("SSESpecification")
    if sse:
        arguments["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            **({"SSEType": sse["SSEType"]} if sse.get("SSEType") else {}),
            **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if sse.get("KMSMasterKeyId") else {}),
        }
    arguments.update(_tags_argument(props, "Tags", as_list=True))
    return arguments


_QUEUE_PROPERTIES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                     "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "RedrivePolicy",
                     "RedriveAllowPolicy", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
                     "FifoThroughputLimit", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
                     "SqsManagedSseEnabled")


def _queue_attributes(props: Resource) -> dict[str, str]:
    attributes = {}
    for name in _QUEUE_PROPERTIES:
        if name not in props:
            continue
        value = props[name]
        if isinstance(value, bool):
            attributes[name] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            attributes[name] = json.dumps(value)
        else:
            attributes[name] = str(value)
    return attributes


def _tags_argument(props: Resource, argument: str, as_list: bool = False) -> dict[str, Any]:
    tags = props.get("Tags") or []
    if not tags:
        return {}
    if as_list:
        return {argument: tags}
    return {argument: {tag["Key"]: tag["Value"] for tag in tags}}


def _cors_rule(rule: Resource) -> Resource:
    renamed = {"ExposedHeaders": "ExposeHeaders", "Id": "ID", "MaxAge": "MaxAgeSeconds"}
    return {renamed.get(name, name): value for name, value in rule.items()}


def _encryption_rule(rule: Resource) -> Resource:
    renamed = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
    return {renamed.get(name, name): value for name, value in rule.items()}
