"""Test-wide settings. The environment is fixed before any Herald module reads it."""
from __future__ import annotations

import json
import os
import tempfile

os.environ.update({
    "HERALD_STAGE": "test",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "HERALD_PUBLIC_BASE_URL": "http://herald.test",
    "HERALD_CORS_ORIGINS": "https://app.herald.test",
    # Webhook secrets the tests sign with (tests/support/webhooks.py).
    "HERALD_META_APP_SECRET": "test-meta-app-secret",
    "HERALD_META_VERIFY_TOKEN": "test-meta-verify-token",
    "HERALD_X_CONSUMER_SECRET": "test-x-consumer-secret",
    "HERALD_LINKEDIN_CLIENT_SECRET": "test-linkedin-client-secret",
    "HERALD_TIKTOK_CLIENT_SECRET": "test-tiktok-client-secret",
    # The sender of Herald's mail, verified in the emulated SES by the `aws` fixture.
    "HERALD_MAIL_FROM": "herald@herald.test",
    # moto's Cognito gives a pool and client of the same name the same ids (infra/local/cognito_pool.py).
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
})
os.environ.pop("HERALD_AWS_ENDPOINT_URL", None)

if os.environ.get("HERALD_TEST_TEMPLATE"):
    # The suite runs as the deployed API function: its stage, names and settings come from the template.
    from tests.support.template_stack import function_environment

    with open(os.environ["HERALD_TEST_TEMPLATE"]) as template_file:
        os.environ.update(function_environment(json.load(template_file), "APIHandler"))
    # moto's request recorder (tests/functional/api/test_least_privilege.py) writes here, not in the work tree.
    recording = os.path.join(tempfile.mkdtemp(prefix="herald-moto-"), "requests")
    os.environ.setdefault("MOTO_RECORDER_FILEPATH", recording)

pytest_plugins = ["tests.support.fixtures"]
