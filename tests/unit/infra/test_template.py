"""The packaged template of each deployed stage, checked offline: lint, least privilege, dead letters,
and agreement with the app, its settings and the local stack's definitions."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from cfnlint.api import lint

from app import app
from chalicelib.core.settings import QUEUES, TABLES, get_settings, queue_env_var, resource_name, table_env_var
from chalicelib.publishing.engine import CLAIM_LEASE, TICK_UNIT_BUDGET_S
from infra.access import FUNCTIONS
from infra.functions import Function, app_functions
from infra.local.environment import LocalOptions, app_environment
from infra.package import read_config, stage_environment
from infra.resources import resources
from infra.template import TemplateError, merge_template

STAGES = ("dev", "prod")
NOT_FOUND = {"error": {"code": "not_found", "message": "No such route", "details": []}}


@pytest.fixture(scope="module", params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def template(stage: str, packaged: Any) -> dict[str, Any]:
    return packaged(stage)[1]


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: r for logical_id, r in template["Resources"].items() if r["Type"] == kind}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {logical_id: resource["Properties"]
            for logical_id, resource in of_type(template, "AWS::Serverless::Function").items()}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_statements(template: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(resource, kind of document, statement) for every policy document in the template."""
    found = []
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        # A Cognito user pool's `Policies` is its password policy, not IAM.
        iam_policies = [] if resource["Type"] == "AWS::Cognito::UserPool" else properties.get("Policies", [])
        documents = [("Policies", policy["PolicyDocument"]) for policy in iam_policies]
        documents += [(name, properties[name]) for name in ("PolicyDocument", "KeyPolicy",
                                                            "AssumeRolePolicyDocument") if name in properties]
        for kind, document in documents:
            found += [(logical_id, kind, statement) for statement in document["Statement"]]
    return found


def queue_by_name(template: dict[str, Any], name: str) -> dict[str, Any]:
    [queue] = [q["Properties"] for q in of_type(template, "AWS::SQS::Queue").values()
               if q["Properties"]["QueueName"] == name]
    return queue


def test_the_template_passes_cfn_lint_with_no_errors_or_warnings(template: dict[str, Any]) -> None:
    problems = [f"{match.rule.id} {match.message} ({match.linenumber})"
                for match in lint(json.dumps(template, indent=1), regions=["us-east-1", "eu-west-1"])
                if match.rule.id[0] in "EW"]
    assert problems == []


def test_cfn_lint_would_catch_a_broken_template() -> None:
    broken = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue",
                                      "Properties": {"VisibilityTimeout": "soon"}}}}
    errors = [match for match in lint(json.dumps(broken), regions=["us-east-1"]) if match.rule.id[0] == "E"]
    assert errors


def test_no_policy_grants_every_action_or_every_resource(template: dict[str, Any]) -> None:
    checked = 0
    for where, kind, statement in iam_statements(template):
        if kind == "KeyPolicy":
            # A key policy's Resource is "*" (it means this key) and AWS requires it so; the account root
            # holds kms:* so that IAM policies, not this document, decide who may use the key.
            assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}
            continue
        if kind == "AssumeRolePolicyDocument":
            assert statement["Action"] == "sts:AssumeRole" and "Resource" not in statement, where
            continue
        checked += 1
        actions = as_list(statement["Action"])
        assert all("*" not in action for action in actions), (where, actions)
        assert "*" not in as_list(statement["Resource"]), (where, statement)
        assert all(isinstance(resource, dict) for resource in as_list(statement["Resource"])), \
            f"{where}: every resource is one the template makes, by reference"
    assert checked >= 3 * len(functions(template))


def test_no_function_may_scan_a_table(template: dict[str, Any]) -> None:
    actions = {action for _where, _kind, statement in iam_statements(template)
               for action in as_list(statement["Action"])}
    assert "dynamodb:Scan" not in actions and "dynamodb:Query" in actions


def test_no_function_may_change_or_delete_the_audit_log(template: dict[str, Any]) -> None:
    audit_table = _logical_id_of_table(template, "audit_log")
    granted = [set(as_list(statement["Action"])) for _where, _kind, statement in iam_statements(template)
               if audit_table in json.dumps(statement.get("Resource"))]
    assert granted, "some function appends to the audit log"
    changing = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:*"}
    assert all(not (actions & changing) for actions in granted), granted
    assert any("dynamodb:PutItem" in actions for actions in granted)


def _logical_id_of_table(template: dict[str, Any], logical: str) -> str:
    from infra.resources import table_id

    assert table_id(logical) in template["Resources"]
    return table_id(logical)


def test_every_function_runs_as_its_own_role_with_only_its_statements(template: dict[str, Any]) -> None:
    roles = of_type(template, "AWS::IAM::Role")
    for logical_id, properties in functions(template).items():
        assert properties["Role"] == {"Fn::GetAtt": [logical_id + "Role", "Arn"]}
    assert len(roles) == len(functions(template))
    tick = roles["TickRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert "kms:Decrypt" not in json.dumps(tick) and "ChannelsTable" not in json.dumps(tick)
    assert "dynamodb:" not in json.dumps(tick)  # it only fans out: the tick workers read the shards


def test_the_tick_fans_out_to_workers_that_end_well_inside_their_timeout(stage: str, template: dict[str, Any]) -> None:
    """One unit per due shard: each pages for at most TICK_UNIT_BUDGET_S, then hands the rest on, so a slow
    shard never reaches the function's timeout; as many workers as shards run at once in prod."""
    worker = functions(template)["TickWorker"]
    assert worker["Timeout"] >= TICK_UNIT_BUDGET_S * 2
    event = worker["Events"]["TickWorkerSqsEventSource"]["Properties"]
    assert event["BatchSize"] == 1 and event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    shards = int(stage_environment(read_config(), stage).get("HERALD_DUE_SHARDS", "8"))
    if stage == "prod":
        assert shards >= 64 and worker["ReservedConcurrentExecutions"] >= shards


def test_prod_publish_workers_scale_for_a_burst(stage: str, template: dict[str, Any]) -> None:
    """100,000 deliveries due in a minute need ~1,700 a second: 10 records a batch, handled at once, take about a
    second, so the workers need a couple of hundred concurrent instances (behind the rate budgets, which defer a
    delivery whose network or account is full); AWS's default account limit is 1,000."""
    worker = functions(template)["PublishWorker"]
    if stage == "prod":
        reserved = worker["ReservedConcurrentExecutions"]
        assert reserved >= 200
        assert worker["Events"]["PublishWorkerSqsEventSource"]["Properties"]["ScalingConfig"] == {
            "MaximumConcurrency": reserved}
        assert reserved + functions(template)["TickWorker"]["ReservedConcurrentExecutions"] <= 1000 - 100


def test_every_async_path_ends_on_a_dead_letter_queue(template: dict[str, Any]) -> None:
    invoke_configs = {r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
                      for r in of_type(template, "AWS::Lambda::EventInvokeConfig").values()}
    checked = 0
    for logical_id, properties in functions(template).items():
        for event in properties.get("Events", {}).values():
            if event["Type"] == "SQS":
                name = event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1]
                redrive = queue_by_name(template, name)["RedrivePolicy"]
                dead_letter_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
                assert template["Resources"][dead_letter_id]["Type"] == "AWS::SQS::Queue"
                assert 1 <= redrive["maxReceiveCount"] <= 10
                checked += 1
            elif event["Type"] in ("Schedule", "CloudWatchEvent"):
                destination = invoke_configs[logical_id]["DestinationConfig"]["OnFailure"]["Destination"]
                failed_jobs = destination["Fn::GetAtt"][0]
                assert template["Resources"][failed_jobs]["Type"] == "AWS::SQS::Queue"
                role = json.dumps(template["Resources"][logical_id + "Role"])
                assert '"sqs:SendMessage"' in role and failed_jobs in role
                checked += 1
    assert checked == len([f for f in app_functions(app) if f.kind in ("queue", "schedule")])


def test_dead_letters_and_function_failures_raise_alarms(template: dict[str, Any]) -> None:
    watched = {json.dumps(r["Properties"]["Dimensions"][0]["Value"]) + r["Properties"]["MetricName"]
               for r in of_type(template, "AWS::CloudWatch::Alarm").values()}
    for logical_id in functions(template):
        assert json.dumps({"Ref": logical_id}) + "Errors" in watched
        assert json.dumps({"Ref": logical_id}) + "Throttles" in watched
    for logical_id, queue in of_type(template, "AWS::SQS::Queue").items():
        if "RedrivePolicy" not in queue["Properties"]:  # a dead-letter queue
            depth = json.dumps({"Fn::GetAtt": [logical_id, "QueueName"]}) + "ApproximateNumberOfMessagesVisible"
            assert depth in watched, logical_id


def test_queue_consumers_report_partial_batch_failures_from_the_apps_queue(stage: str,
                                                                            template: dict[str, Any]) -> None:
    consumers = [f for f in app_functions(app) if f.kind == "queue"]
    assert consumers
    for function in consumers:
        properties = functions(template)[function.logical_id]
        event = properties["Events"][function.event_id]["Properties"]
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        name = event["Queue"]["Fn::Sub"].rsplit(":", 1)[1]
        queue = queue_by_name(template, name)
        assert name in (resource_name(stage, logical) for logical in QUEUES)
        # AWS refuses an SQS event source whose queue hides a message for less than the function may run.
        assert queue["VisibilityTimeout"] >= properties["Timeout"]
        if properties.get("ReservedConcurrentExecutions"):
            assert 2 <= event["ScalingConfig"]["MaximumConcurrency"] <= properties["ReservedConcurrentExecutions"]


def _stream_consumer(template: dict[str, Any], name: str, table_id: str) -> list[dict[str, Any]]:
    """The statements of a stream consumer's role, once its event reads `table_id`'s own stream."""
    [function] = [f for f in app_functions(app) if f.kind == "stream" and f.name == name]
    properties = functions(template)[function.logical_id]
    event = properties["Events"][function.event_id]
    assert event["Type"] == "DynamoDB"
    stream = {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert event["Properties"]["Stream"] == stream
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedJobsQueue", "Arn"]}
    table = template["Resources"][table_id]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    role = template["Resources"][function.logical_id + "Role"]["Properties"]["Policies"][0]["PolicyDocument"]
    [reads] = [s for s in role["Statement"] if s["Sid"] == "ReadStream"]
    assert reads["Resource"] == [stream] and "dynamodb:GetRecords" in reads["Action"]
    return list(role["Statement"])


def _writes(statements: list[dict[str, Any]], table_id: str) -> bool:
    return any("dynamodb:PutItem" in s["Action"] and any(table_id in json.dumps(r) for r in s["Resource"])
               for s in statements)


def _touches(statements: list[dict[str, Any]], table_id: str) -> bool:
    return any(s["Action"][0].startswith("dynamodb:") and any(table_id in json.dumps(r) for r in s["Resource"])
               for s in statements if s["Sid"] != "ReadStream")


def test_the_stream_consumers_are_the_counter_and_the_inbox_threader() -> None:
    assert sorted(f.name for f in app_functions(app) if f.kind == "stream") == ["count_outcomes",
                                                                               "thread_messages"]


def test_the_counter_consumer_reads_the_posts_tables_own_stream_and_only_that(template: dict[str, Any]) -> None:
    statements = _stream_consumer(template, "count_outcomes", "PostsTable")
    assert not _writes(statements, "PostsTable")  # it reads the posts table, never writes it


def test_the_inbox_threader_reads_the_inbox_tables_own_stream(template: dict[str, Any]) -> None:
    statements = _stream_consumer(template, "thread_messages", "InboxTable")
    # It writes conversations, mentions, counters and webhook deliveries; the ingest path's dedupe is not its.
    assert _writes(statements, "InboxTable") and _writes(statements, "MetricsTable")
    assert not _touches(statements, "WebhookEventsTable")


def test_the_inbox_queue_consumer_only_writes_messages(template: dict[str, Any]) -> None:
    [function] = [f for f in app_functions(app) if f.name == "inbox_worker"]
    role = template["Resources"][function.logical_id + "Role"]["Properties"]["Policies"][0]["PolicyDocument"]
    tables = {json.dumps(r) for s in role["Statement"] if s["Action"][0].startswith("dynamodb:")
              for r in s["Resource"]}
    assert tables and all("InboxTable" in table for table in tables), tables


def test_the_publish_worker_ends_before_its_claim_runs_out(template: dict[str, Any]) -> None:
    assert functions(template)["PublishWorker"]["Timeout"] < CLAIM_LEASE.total_seconds()


def test_functions_get_the_names_of_the_resources_the_template_makes(stage: str, template: dict[str, Any]) -> None:
    tables = {r["Properties"]["TableName"] for r in of_type(template, "AWS::DynamoDB::Table").values()}
    queues = {r["Properties"]["QueueName"] for r in of_type(template, "AWS::SQS::Queue").values()}
    bucket = template["Resources"]["MediaBucket"]["Properties"]["BucketName"]  # the other is the console's
    [alias] = [r["Properties"]["AliasName"] for r in of_type(template, "AWS::KMS::Alias").values()]
    for properties in functions(template).values():
        variables = properties["Environment"]["Variables"]
        assert variables["HERALD_STAGE"] == stage
        assert {variables[table_env_var(t)] for t in TABLES} == tables
        assert {variables[queue_env_var(q)] for q in QUEUES} <= queues
        assert variables["HERALD_MEDIA_BUCKET"] == bucket and variables["HERALD_KMS_KEY_ID"] == alias


def test_no_deployed_function_may_reach_private_addresses(template: dict[str, Any]) -> None:
    """HERALD_ALLOW_PRIVATE_URLS is for tests and local peers only (chalicelib/core/outbound.py)."""
    environments = [properties.get("Environment", {}).get("Variables", {})
                    for properties in functions(template).values()]
    environments.append(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    assert environments[0], "the functions' environments were not found"
    assert all("HERALD_ALLOW_PRIVATE_URLS" not in variables for variables in environments)
    assert "HERALD_ALLOW_PRIVATE_URLS" not in json.dumps(template)


def test_every_stage_in_the_chalice_config_names_the_resources_infra_makes() -> None:
    config = read_config()
    for stage in config["stages"]:
        env = stage_environment(config, stage)
        wanted = {table_env_var(t): resource_name(stage, t) for t in TABLES}
        wanted |= {queue_env_var(q): resource_name(stage, q) for q in QUEUES}
        missing = {name: value for name, value in wanted.items() if env.get(name) != value}
        assert not missing, f".chalice/config.json stage {stage} needs: {json.dumps(missing)}"


def test_the_template_makes_the_local_stacks_resources_unchanged(stage: str, template: dict[str, Any]) -> None:
    for logical_id, resource in resources(stage).items():
        assert template["Resources"][logical_id]["Properties"] == resource["Properties"]
    for table in of_type(template, "AWS::DynamoDB::Table").values():
        properties = table["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert of_type(template, "AWS::DynamoDB::Table")["WebhookEventsTable"]["Properties"]["TimeToLiveSpecification"]


def test_index_projections_stay_within_dynamodbs_limits(template: dict[str, Any]) -> None:
    """DynamoDB refuses a table whose INCLUDE lists name more than 20 attributes in one index, or more than
    100 summed over its indexes."""
    for table in of_type(template, "AWS::DynamoDB::Table").values():
        included = [index["Projection"].get("NonKeyAttributes", [])
                    for index in table["Properties"].get("GlobalSecondaryIndexes", [])]
        assert all(len(names) <= 20 for names in included), included
        assert sum(len(names) for names in included) <= 100, table["Properties"]["TableName"]


def test_only_prod_keeps_its_data_when_the_stack_goes(stage: str, template: dict[str, Any]) -> None:
    for kind in ("AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::S3::Bucket"):
        for resource in of_type(template, kind).values():
            expected = "Retain" if stage == "prod" else "Delete"
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == expected


def test_an_unknown_route_is_a_404_in_the_contracts_shape(template: dict[str, Any]) -> None:
    swagger = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    answer = swagger["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert answer["statusCode"] == 404
    assert json.loads(answer["responseTemplates"]["application/json"]) == NOT_FOUND
    too_large = swagger["x-amazon-apigateway-gateway-responses"]["REQUEST_TOO_LARGE"]
    assert too_large["statusCode"] == 413


def test_a_method_a_path_does_not_take_reaches_the_app_for_its_405(template: dict[str, Any]) -> None:
    """ANY beside each route's own methods: API Gateway sends the others to the API function (the app answers
    405 with Allow) instead of answering MISSING_AUTHENTICATION_TOKEN, the 404 for an unknown path."""
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert set(paths) == set(app.routes)
    for path, operations in paths.items():
        catch_all = operations["x-amazon-apigateway-any-method"]
        own = [operations[method.lower()] for method in app.routes[path]]
        assert own and all(op["x-amazon-apigateway-integration"] == catch_all["x-amazon-apigateway-integration"]
                           for op in own), path
        assert [p["name"] for p in catch_all["parameters"]] == [p["name"] for p in own[0].get("parameters", [])]


def test_the_template_names_no_region_or_account(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    assert "us-east-1" not in text and "123456789012" not in text and "000000000000" not in text


def test_the_access_map_covers_exactly_the_apps_functions() -> None:
    assert sorted(FUNCTIONS) == sorted(function.name for function in app_functions(app))


def test_a_function_missing_from_the_access_map_stops_the_build() -> None:
    stray = Function("send_digest", "schedule", schedule="rate(1 day)")
    with pytest.raises(TemplateError, match="send_digest"):
        merge_template("dev", "herald", [*app_functions_for("dev"), stray], read_config())


def app_functions_for(stage: str) -> list[Function]:
    """The app's functions as packaging `stage` sees them: consumers read that stage's queues and streams."""
    logical = {get_settings().queue(q): q for q in QUEUES}
    tables = {get_settings().table(t): t for t in TABLES}
    return [replace(f, queue=resource_name(stage, logical[f.queue])) if f.queue
            else replace(f, stream_table=resource_name(stage, tables[f.stream_table])) if f.stream_table
            else f for f in app_functions(app)]


def test_the_console_is_served_by_cloudfront_from_a_bucket_only_that_distribution_reads(
        stage: str, template: dict[str, Any]) -> None:
    resources_ = template["Resources"]
    bucket = resources_["ConsoleBucket"]["Properties"]
    assert bucket["BucketName"] == f"herald-{stage}-console"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    [statement] = resources_["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"} and statement["Action"] == "s3:GetObject"
    assert "ConsoleDistribution" in json.dumps(statement["Condition"])
    config = resources_["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    [origin] = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert {"ConsoleUrl", "ConsoleBucketName", "ConsoleDistributionId"} <= set(template["Outputs"])


def test_every_function_mails_links_into_the_console_at_its_cloudfront_address(template: dict[str, Any]) -> None:
    """Approval and mention emails open the console (HERALD_CONSOLE_URL), which is the ConsoleUrl output."""
    console = {"Fn::Sub": "https://${ConsoleDistribution.DomainName}"}
    assert template["Outputs"]["ConsoleUrl"]["Value"] == console
    variables = {name: properties["Environment"]["Variables"] for name, properties in functions(template).items()}
    assert variables and {name: v.get("HERALD_CONSOLE_URL") for name, v in variables.items()} == {
        name: console for name in variables}


def test_the_api_answers_the_console_at_its_cloudfront_address(template: dict[str, Any]) -> None:
    """Without it the deployed console's every call is refused by the browser (CORS)."""
    console = {"Fn::Sub": "https://${ConsoleDistribution.DomainName}"}
    [api] = [p for name, p in functions(template).items() if name == "APIHandler"]
    origins = api["Environment"]["Variables"]["HERALD_CORS_ORIGINS"]
    assert origins["Fn::Join"][1][-1] == console


def test_the_local_stack_mails_links_into_the_console_it_serves(tmp_path: Any) -> None:
    options = LocalOptions(host="127.0.0.1", port=8123, aws_port=4566, state_dir=tmp_path, app_spec="app:app",
                           region="us-east-1", workers=1)
    assert app_environment(options)["HERALD_CONSOLE_URL"] == "http://127.0.0.1:8123"


def test_the_browser_may_upload_to_the_presigned_media_url(template: dict[str, Any]) -> None:
    [rule] = template["Resources"]["MediaBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["PUT"]
