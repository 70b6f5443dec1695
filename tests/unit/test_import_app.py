"""`import app` is what every Lambda's cold start runs: it must not load the AWS SDK, PynamoDB, any
feature's table models, or the libraries only a handler's work needs. Each of those is imported by
the function that uses it, when it runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Top-level names or dotted prefixes; a feature's `tables`, `*_repository` and `*_store` modules hold the models.
HEAVY = ("pynamodb", "boto3", "botocore", "cryptography", "requests")
LOADED_AFTER_IMPORT_APP = "import json, sys; import app; print(json.dumps(sorted(sys.modules)))"


def _is_table_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("chalicelib.") and (last == "tables" or last.endswith(("_repository", "_store")))


def _is_heavy(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in HEAVY) or _is_table_module(module)


def _worth_naming(module: str) -> bool:
    """The packages themselves and the table modules, not each of botocore's hundred submodules."""
    return module in HEAVY or _is_table_module(module)


def test_import_app_loads_no_sdk_no_table_models_and_no_handler_only_library() -> None:
    # A fresh interpreter: this test process has loaded everything already. The environment is the
    # test run's (tests/conftest.py set it), as the deployed function has its stage's.
    done = subprocess.run([sys.executable, "-c", LOADED_AFTER_IMPORT_APP], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout.splitlines()[-1])
    offenders = [name for name in loaded if _is_heavy(name)]
    assert not offenders, (f"`import app` loads {', '.join(n for n in offenders if _worth_naming(n))}; "
                             "`python -X importtime -c 'import app'` shows who imports them")


def test_the_features_info_logs_reach_the_function_log() -> None:
    """Chalice leaves its app's logger at ERROR; the modules log under it ("herald.jobs" and so on)."""
    code = ("import logging, app; print(logging.getLogger('herald.jobs').getEffectiveLevel()); "
            "logging.getLogger('herald.jobs').info('a line for the root handler only')")
    environment = {k: v for k, v in os.environ.items() if k != "HERALD_LOG_LEVEL"}
    shown = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert shown == "20"  # INFO, and nothing more on stdout: no handler of Chalice's prints it there
