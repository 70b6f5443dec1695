"""Test-wide settings. The environment is fixed before any Herald module reads it."""
from __future__ import annotations

import os

os.environ.update({
    "HERALD_STAGE": "test",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "HERALD_PUBLIC_BASE_URL": "http://herald.test",
    "HERALD_CORS_ORIGINS": "https://app.herald.test",
})
os.environ.pop("HERALD_AWS_ENDPOINT_URL", None)

pytest_plugins = ["tests.support.fixtures"]
