"""A stage's packaged template, and its tables, queues, key and bucket created by moto's CloudFormation.

With HERALD_TEST_TEMPLATE=<template.json> the test suite runs as the deployed API function would: its
environment is the one the template gives that function, and each test's AWS is made by CloudFormation
from the template's own resources (see tests/conftest.py and the `aws` fixture).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_VARIABLE = "HERALD_TEST_TEMPLATE"
PUBLIC_BASE_URL = "http://herald.test"
# What moto's CloudFormation can create, and all the code talks to; functions, roles, alarms are checked
# statically (tests/unit/infra/test_template.py).
DATA_TYPES = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::KMS::Key", "AWS::KMS::Alias",
              "AWS::S3::Bucket")


def package_template(stage: str, out: Path) -> dict[str, Any]:
    """`python -m infra.package --template-only`, as `make package` runs it but without the dependencies."""
    done = subprocess.run([sys.executable, "-m", "infra.package", "--stage", stage, "--template-only",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / "template.json").read_text())


def data_stack(template: dict[str, Any]) -> str:
    """The template's data resources as a template moto's CloudFormation accepts (no SAM transform)."""
    resources = {logical_id: resource for logical_id, resource in template["Resources"].items()
                 if resource["Type"] in DATA_TYPES}
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


def function_environment(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    """The variables Lambda sets for one function, with the template's parameters given test values."""
    from infra.template import WEBHOOK_SECRETS

    parameters = {"PublicBaseUrl": PUBLIC_BASE_URL, "MailFrom": os.environ.get("HERALD_MAIL_FROM", ""),
                  # the webhook secrets the tests sign with (tests/conftest.py)
                  **{parameter: os.environ.get(variable, "") for parameter, variable in WEBHOOK_SECRETS.items()}}
    variables = template["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
    # The user pool's ids (a Ref to a resource the data stack does not make) are found by name in the tests; the
    # console's address (the CloudFront distribution's, not made either) is left empty: the API's own is used.
    return {name: parameters.get(value.get("Ref"), "") if isinstance(value, dict) else value
            for name, value in variables.items()}
