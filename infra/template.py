"""The part of a stage's template that Chalice does not make, merged into `chalice package` output.

`python -m infra.package` writes this as the `--merge-template`. It holds:
- the tables, queues, key and bucket of `infra/resources.py` (the same definitions the local stack creates);
- one IAM role per function, with only what `infra/access.py` grants it;
- a log group per function, a failed-jobs queue for scheduled functions, alarms and their topic;
- changes to what Chalice generates: function names and roles, SQS events that report partial batch
  failures and point at the template's queues, API Gateway answers in the contract's error shape.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from chalice.config import Config

from chalicelib.core.settings import QUEUES, resource_name
from infra.access import (
    FUNCTIONS,
    KEY_ACTIONS,
    LOG_ACTIONS,
    OBJECT_ACTIONS,
    QUEUE_CONSUME_ACTIONS,
    QUEUE_DEPTH_ACTIONS,
    QUEUE_SEND_ACTIONS,
    STREAM_READ_ACTIONS,
    TABLE_ACTIONS,
    Access,
)
from infra.console_hosting import console_outputs, console_resources, console_url
from infra.functions import Function
from infra.resources import (
    TABLE_LAYOUTS,
    USER_POOL,
    USER_POOL_CLIENT,
    dead_letter_queue_id,
    queue_id,
    resources,
    table_id,
)

Resource = dict[str, Any]
Statement = dict[str, Any]

FAILED_JOBS_QUEUE = "FailedJobsQueue"
ALARM_TOPIC = "AlarmTopic"
SECRETS_KEY = "SecretsKey"
MEDIA_BUCKET = "MediaBucket"
RETAINED_TYPES = ("AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::S3::Bucket")
LOG_RETENTION_DAYS = {"prod": 90}
DEFAULT_LOG_RETENTION_DAYS = 14
SQS_MIN_MAXIMUM_CONCURRENCY = 2  # the lowest ScalingConfig.MaximumConcurrency SQS event sources accept


def error_body(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message, "details": []}})


# API Gateway's own answers, for requests that never reach the app. MISSING_AUTHENTICATION_TOKEN is what
# it says for a path or method no route defines: a 404, as the local stack answers. None keeps its status.
GATEWAY_RESPONSES: dict[str, tuple[int | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "No such route"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "The body is larger than API Gateway accepts (10 MB)"),
    "THROTTLED": (429, "too_many_requests", "Too many requests; slow down and retry"),
    "INTEGRATION_TIMEOUT": (504, "timeout", "The request took too long; it may or may not have been done"),
    "DEFAULT_5XX": (None, "internal_error", "Something went wrong on our side"),
}


def _role_id(function: Function) -> str:
    return function.logical_id + "Role"


def _log_group_id(function: Function) -> str:
    return function.logical_id + "LogGroup"


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _arn_with(logical_id: str, suffix: str) -> dict[str, Any]:
    return {"Fn::Sub": "${" + logical_id + ".Arn}" + suffix}


def _statement(sid: str, actions: tuple[str, ...], resources_: list[Any]) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources_}


def _camel(logical: str) -> str:
    return "".join(part.capitalize() for part in logical.split("_"))


def _table_resources(logical: str) -> list[Any]:
    arns: list[Any] = [_arn(table_id(logical))]
    if TABLE_LAYOUTS[logical]["indexes"]:
        arns.append(_arn_with(table_id(logical), "/index/*"))
    return arns


def policy_statements(function: Function, access: Access, consumed_queue: str | None) -> list[Statement]:
    """Everything one function may do, each action on named resources only."""
    statements = [_statement("Logs", LOG_ACTIONS, [_arn(_log_group_id(function))])]
    for logical, level in access.tables.items():
        statements.append(_statement(f"Table{_camel(logical)}", TABLE_ACTIONS[level],
                                     _table_resources(logical)))
    if access.sends_to:
        statements.append(_statement("SendMessages", QUEUE_SEND_ACTIONS,
                                     [_arn(queue_id(logical)) for logical in access.sends_to]))
    if access.reads_depth_of:
        statements.append(_statement("QueueDepth", QUEUE_DEPTH_ACTIONS,
                                     [_arn(queue_id(logical)) for logical in access.reads_depth_of]))
    if consumed_queue is not None:
        statements.append(_statement("ConsumeQueue", QUEUE_CONSUME_ACTIONS, [_arn(queue_id(consumed_queue))]))
    if function.kind == "stream" and function.stream_table:
        statements.append(_statement("ReadStream", STREAM_READ_ACTIONS,
                                     [{"Fn::GetAtt": [table_id(function.stream_table), "StreamArn"]}]))
    if function.kind in ("schedule", "invoke", "stream"):
        statements.append(_statement("ReportFailedRuns", ("sqs:SendMessage",), [_arn(FAILED_JOBS_QUEUE)]))
    if access.secrets_key:
        statements.append(_statement("SecretsKey", KEY_ACTIONS, [_arn(SECRETS_KEY)]))
    if access.media_bucket:
        statements.append(_statement("MediaObjects", OBJECT_ACTIONS[access.media_bucket],
                                     [_arn_with(MEDIA_BUCKET, "/*")]))
    if access.lists_media_bucket:
        statements.append(_statement("MediaBucketList", ("s3:ListBucket",), [_arn(MEDIA_BUCKET)]))
    statements += people_statements(access)
    return statements


# People (chalicelib/people/identity.py): what the API calls on the user pool; InitiateAuth and GlobalSignOut
# are public calls that need no permission.
USER_POOL_ACTIONS = ("cognito-idp:AdminCreateUser", "cognito-idp:AdminSetUserPassword",
                     "cognito-idp:AdminUserGlobalSignOut")


def people_statements(access: Access) -> list[Statement]:
    out: list[Statement] = []
    if access.user_pool:
        out.append(_statement("UserPool", USER_POOL_ACTIONS, [_arn(USER_POOL)]))
    if access.sends_mail:
        out.append(_statement("SendMail", ("ses:SendEmail",), [
            {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailFrom}"},
            {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}"}]))
    return out


def people_variables() -> Resource:
    return {"HERALD_COGNITO_USER_POOL_ID": {"Ref": USER_POOL}, "HERALD_COGNITO_CLIENT_ID": {"Ref": USER_POOL_CLIENT},
            "HERALD_MAIL_FROM": {"Ref": "MailFrom"}}


# The API's Cognito authorizer: API Gateway checks the access token itself on the routes only a person calls
# (the others take an API key too, so the function verifies a JWT the same way; chalicelib/people/jwt_verifier.py).
COGNITO_AUTHORIZER = "HeraldUsers"
PERSON_ONLY_ROUTES = (("/auth/sign-out", "post"), ("/agencies", "post"))


def cognito_authorizer() -> dict[str, Any]:
    return {"securityDefinitions": {COGNITO_AUTHORIZER: {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [_arn(USER_POOL)]}}}}


def person_only_paths() -> dict[str, Any]:
    return {path: {method: {"security": [{COGNITO_AUTHORIZER: ["aws.cognito.signin.user.admin"]}]}}
            for path, method in PERSON_ONLY_ROUTES}


def _role(function: Function, statements: list[Statement]) -> Resource:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}],
            },
            "Policies": [{"PolicyName": function.name,
                          "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }


def _alarm(description: str, namespace: str, metric: str, dimension: tuple[str, Any], statistic: str) -> Resource:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
            "Statistic": statistic,
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ALARM_TOPIC}],
            "OKActions": [{"Ref": ALARM_TOPIC}],
        },
    }


def _queue_depth_alarm(queue_logical_id: str, what: str) -> Resource:
    return _alarm(f"{what}: something failed for good and waits for a person", "AWS/SQS",
                  "ApproximateNumberOfMessagesVisible",
                  ("QueueName", {"Fn::GetAtt": [queue_logical_id, "QueueName"]}), "Maximum")


def _retries_for(schedule: str | None) -> int:
    """A job that runs every few minutes is not retried: the next run does the same work."""
    if schedule and schedule.startswith("rate(") and schedule.split()[1].startswith("minute"):
        return 0 if int(schedule[5:].split()[0]) <= 5 else 2
    return 2


class TemplateError(ValueError):
    pass


def _queue_logical(stage: str, queue_name: str | None, function: Function) -> str:
    by_name = {resource_name(stage, logical): logical for logical in QUEUES}
    if queue_name not in by_name:
        raise TemplateError(f"{function.name} reads queue {queue_name!r}, which is not one of infra's queues "
                            f"({', '.join(sorted(by_name))}); is HERALD_STAGE={stage} set while packaging?")
    return by_name[queue_name]


def _with_stream_table(stage: str, function: Function) -> Function:
    """The function with the logical name of the table whose stream it reads (it names the table's name)."""
    by_name = {resource_name(stage, logical): logical for logical, layout in TABLE_LAYOUTS.items()
               if layout.get("stream")}
    if function.stream_table not in by_name:
        raise TemplateError(f"{function.name} reads the stream of {function.stream_table!r}, which is not a table "
                            f"with a stream ({', '.join(sorted(by_name))}); is HERALD_STAGE={stage} set?")
    return replace(function, stream_table=by_name[function.stream_table])


# The networks' webhook secrets (chalicelib/core/settings.py): NoEcho parameters, given to the API function only.
WEBHOOK_SECRETS = {
    "MetaAppSecret": "HERALD_META_APP_SECRET",
    "MetaVerifyToken": "HERALD_META_VERIFY_TOKEN",
    "XConsumerSecret": "HERALD_X_CONSUMER_SECRET",
    "LinkedInClientSecret": "HERALD_LINKEDIN_CLIENT_SECRET",
    "TikTokClientSecret": "HERALD_TIKTOK_CLIENT_SECRET",
    # Not a webhook's: the key of short links' click ids and of each day's visitor salt (chalicelib/links/).
    "LinksSecret": "HERALD_LINKS_SECRET",
}


def _cors_origins(config: Config) -> Resource | str:
    """The stage's configured origins and the console's own: the console talks to the API from CloudFront."""
    configured = [o.strip() for o in str(config.environment_variables.get("HERALD_CORS_ORIGINS", "")).split(",")]
    if "*" in configured:
        return "*"
    return {"Fn::Join": [",", [*(o for o in configured if o), console_url()]]}


def _function_changes(function: Function, app_name: str, stage: str, config: Config,
                      consumed_queue: str | None) -> Resource:
    # Every function may mail a link into the console (an approval asked, a mention): its CloudFront address.
    variables: Resource = {"HERALD_PUBLIC_BASE_URL": {"Ref": "PublicBaseUrl"}, "HERALD_CONSOLE_URL": console_url()}
    if function.kind == "api":
        variables.update({variable: {"Ref": parameter} for parameter, variable in WEBHOOK_SECRETS.items()})
        variables.update(people_variables())
        variables["HERALD_CORS_ORIGINS"] = _cors_origins(config)
    properties: Resource = {
        "FunctionName": function.deployed_name(app_name, stage),
        "Role": _arn(_role_id(function)),
        "Environment": {"Variables": variables},
    }
    if consumed_queue is not None and function.event_id:
        # Chalice names the queue in an ARN of its own making, from the same name (tested). The role's
        # reference to the queue makes CloudFormation create the queue before the function and its event.
        event: Resource = {
            # The worker answers {"batchItemFailures": [...]}: only the failed records come back.
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }
        if config.reserved_concurrency:
            # As many pollers as reserved instances: the event source never throttles itself into the DLQ.
            event["ScalingConfig"] = {
                "MaximumConcurrency": max(SQS_MIN_MAXIMUM_CONCURRENCY, config.reserved_concurrency)}
        properties["Events"] = {function.event_id: {"Properties": event}}
    if function.kind == "stream" and function.event_id and function.stream_table:
        properties["Events"] = {function.event_id: {"Properties": _stream_event(function.stream_table)}}
    return {"Properties": properties}


# A record that keeps failing is retried this many times, then described on the failed-jobs queue.
STREAM_RETRY_ATTEMPTS = 10


def _stream_event(table: str) -> Resource:
    """The stream event source: the table's own stream (not the name Chalice was given), partial batch
    responses by sequence number, and the failed-jobs queue for a batch that never succeeds."""
    return {"Stream": {"Fn::GetAtt": [table_id(table), "StreamArn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": STREAM_RETRY_ATTEMPTS,
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": _arn(FAILED_JOBS_QUEUE)}}}


def _function_resources(function: Function, app_name: str, stage: str, config: Config,
                        consumed_queue: str | None) -> dict[str, Resource]:
    if function.name not in FUNCTIONS:
        raise TemplateError(f"infra/access.py grants nothing to {function.name}: add it to FUNCTIONS")
    name = function.deployed_name(app_name, stage)
    out: dict[str, Resource] = {
        _log_group_id(function): {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": f"/aws/lambda/{name}",
                           "RetentionInDays": LOG_RETENTION_DAYS.get(stage, DEFAULT_LOG_RETENTION_DAYS)},
        },
        _role_id(function): _role(function, policy_statements(function, FUNCTIONS[function.name], consumed_queue)),
        function.logical_id + "ErrorsAlarm": _alarm(f"{name} failed", "AWS/Lambda", "Errors",
                                                    ("FunctionName", {"Ref": function.logical_id}), "Sum"),
        function.logical_id + "ThrottlesAlarm": _alarm(f"{name} was throttled", "AWS/Lambda", "Throttles",
                                                       ("FunctionName", {"Ref": function.logical_id}), "Sum"),
    }
    if function.kind in ("schedule", "invoke"):
        # Invoked asynchronously: a run that fails for good lands on the failed-jobs queue.
        out[function.logical_id + "InvokeConfig"] = {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": function.logical_id},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": _retries_for(function.schedule),
                "DestinationConfig": {"OnFailure": {"Destination": _arn(FAILED_JOBS_QUEUE)}},
            },
        }
    out[function.logical_id] = _function_changes(function, app_name, stage, config, consumed_queue)
    return out


def _data_resources(stage: str) -> dict[str, Resource]:
    out = resources(stage)
    policy = "Retain" if stage == "prod" else "Delete"
    for resource in out.values():
        if resource["Type"] in RETAINED_TYPES:
            resource["DeletionPolicy"] = policy
            resource["UpdateReplacePolicy"] = policy
    return out


def _gateway_responses() -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        answers[kind] = {"responseTemplates": {"application/json": error_body(code, message)}}
        if status is not None:
            answers[kind]["statusCode"] = status
    return answers


def api_handler_integration() -> dict[str, Any]:
    """The Lambda proxy integration Chalice gives each route, to the API function."""
    return {"type": "aws_proxy", "httpMethod": "POST", "passthroughBehavior": "when_no_match",
            "contentHandling": "CONVERT_TO_TEXT", "responses": {"default": {"statusCode": "200"}},
            "uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                               "${APIHandler.Arn}/invocations"}}


def _any_method_paths(api_paths: Iterable[str]) -> dict[str, Any]:
    """ANY on every route's resource, beside its own methods: API Gateway sends a method the route does
    not take to the app, which answers 405 with Allow in the contract's shape (instead of
    MISSING_AUTHENTICATION_TOKEN, a 404 for a path that exists)."""
    return {path: {"x-amazon-apigateway-any-method": {
        "parameters": [{"in": "path", "name": name, "required": True, "type": "string"}
                       for name in re.findall(r"{(\w+)}", path)],
        "responses": {"405": {"description": "Another method than this path takes"}},
        "x-amazon-apigateway-integration": api_handler_integration()}} for path in sorted(api_paths)}


def _outputs(stage: str) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for resource_id, resource in _data_resources(stage).items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            outputs[resource_id + "Name"] = {"Value": {"Ref": resource_id}}
        elif resource["Type"] == "AWS::SQS::Queue":
            outputs[resource_id + "Url"] = {"Value": {"Ref": resource_id}}
    outputs[FAILED_JOBS_QUEUE + "Url"] = {"Value": {"Ref": FAILED_JOBS_QUEUE}}
    outputs[SECRETS_KEY + "Arn"] = {"Value": _arn(SECRETS_KEY)}
    outputs[MEDIA_BUCKET + "Name"] = {"Value": {"Ref": MEDIA_BUCKET}}
    outputs[ALARM_TOPIC + "Arn"] = {"Value": {"Ref": ALARM_TOPIC}}
    return outputs


def merge_template(stage: str, app_name: str, functions: list[Function],
                   config_from_disk: dict[str, Any], api_paths: Iterable[str] = ()) -> dict[str, Any]:
    """What `chalice package --merge-template` merges over its own template for this stage;
    `api_paths` are the app's route paths."""
    out: dict[str, Resource] = _data_resources(stage)
    out[FAILED_JOBS_QUEUE] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": resource_name(stage, "failed_jobs"), "MessageRetentionPeriod": 1209600,
                       "SqsManagedSseEnabled": True},
    }
    out[ALARM_TOPIC] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": resource_name(stage, "alarms")}}
    out["AlarmEmailSubscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasAlarmEmail",
        "Properties": {"TopicArn": {"Ref": ALARM_TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
    }
    out[FAILED_JOBS_QUEUE + "Alarm"] = _queue_depth_alarm(FAILED_JOBS_QUEUE, "A scheduled run failed")
    for logical in QUEUES:
        out[dead_letter_queue_id(logical) + "Alarm"] = _queue_depth_alarm(
            dead_letter_queue_id(logical), f"A {logical} message failed every delivery")
    for function in functions:
        config = Config(chalice_stage=stage, function_name=function.name,
                        user_provided_params={"app_name": app_name}, config_from_disk=config_from_disk)
        consumed = _queue_logical(stage, function.queue, function) if function.kind == "queue" else None
        if function.kind == "stream":
            function = _with_stream_table(stage, function)
        out.update(_function_resources(function, app_name, stage, config, consumed))
    out.update(console_resources(stage))
    if any(function.kind == "api" for function in functions):
        paths = _any_method_paths(api_paths)
        for path, methods in person_only_paths().items():
            paths.setdefault(path, {}).update(methods)
        out["RestAPI"] = {"Properties": {"DefinitionBody": {
            "x-amazon-apigateway-gateway-responses": _gateway_responses(), "paths": paths, **cognito_authorizer()}}}
    return {
        "Parameters": {
            "PublicBaseUrl": {
                "Type": "String", "Default": "",
                "Description": "The API's public address (custom domain, or the EndpointURL output without "
                               "its trailing slash); links in feeds and the sandbox use it.",
            },
            "MailFrom": {"Type": "String", "Default": "herald@example.com",
                         "Description": "The SES-verified sender of invitations and password resets."},
            "MailDomain": {"Type": "String", "Default": "example.com",
                           "Description": "The SES-verified domain of MailFrom (SendEmail is allowed from either)."},
            "AlarmEmail": {"Type": "String", "Default": "",
                           "Description": "Where alarms are mailed; empty: subscribe to the AlarmTopicArn output."},
            **{parameter: {"Type": "String", "Default": "", "NoEcho": True,
                           "Description": f"{variable}: empty refuses that network's webhooks."}
               for parameter, variable in WEBHOOK_SECRETS.items()},
        },
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": out,
        "Outputs": {**_outputs(stage), **console_outputs()},
    }
