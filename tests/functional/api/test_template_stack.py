"""The functional suite, run again on tables, queues, key and bucket made by moto's CloudFormation from the
packaged dev template, with the environment that template gives the API function.

That proves the template and the code agree on every name, key and index (the models are checked one by
one in test_template_tables.py), and that each function's role allows what it does (test_least_privilege.py).
It runs in a separate interpreter because the environment decides table names at import.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from tests.support.template_stack import ROOT, TEMPLATE_VARIABLE

# Everything that touches a table, an index, a queue, the key or the bucket. Not here: CORS (dev allows
# another origin; settings, not resources), the OpenAPI document, errors' shapes, the Mastodon adapter,
# and the slow chaos test.
SUITE = (
    "tests/functional/api/test_template_tables.py",
    "tests/functional/api/test_least_privilege.py",
    "tests/functional/api/test_smoke.py",
    "tests/functional/publishing/test_publishing.py",
    "tests/functional/publishing/test_posts.py",
    "tests/functional/accounts/test_channels.py",
    "tests/functional/publishing/test_calendar.py",
    "tests/functional/accounts/test_tenancy.py",
    "tests/functional/inbox/test_webhooks_meta.py",
    "tests/functional/inbox/test_inbox.py",
    "tests/functional/inbox/test_inbox_listening.py",
    "tests/functional/inbox/test_inbox_polling.py",
)


def test_the_functional_suite_passes_on_the_dev_templates_resources(packaged: Any, tmp_path: Any) -> None:
    if os.environ.get(TEMPLATE_VARIABLE):
        return  # already the inner run
    template_path, _template = packaged("dev")
    env = {**os.environ, TEMPLATE_VARIABLE: str(template_path),
           "MOTO_RECORDER_FILEPATH": str(tmp_path / "requests")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                           "-rs", *SUITE], cwd=ROOT, env=env, capture_output=True, text=True)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in summary and "skipped" not in summary, summary
