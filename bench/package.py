"""What a deployment weighs: the size of the Lambda package, and how long a cold start spends importing the app.

`import app` runs in a fresh interpreter from the unzipped deployment package, with the dev stage's
environment and without writing .pyc files (Lambda's /var/task is read-only, so every cold start compiles
the package's code). Beside it, in the same run and the same way, a bare `import boto3` from the runtime
(which Lambda ships compiled): `import_app_over_boto3` is the ratio, less sensitive to the machine.
Run alone: python -m bench.package
"""
from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from infra.package import package, read_config, stage_environment

STAGE = "dev"
ROUNDS = 5
TIMED_IMPORT = ("import time; started = time.perf_counter(); import {module}; "
                "print(time.perf_counter() - started)")

log = logging.getLogger("bench.package")


def _import_seconds(module: str, package_dir: Path, env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-s", "-c", TIMED_IMPORT.format(module=module)], cwd=package_dir,
                          env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="herald-bench-package-") as scratch:
        out = Path(scratch) / "build"
        log.info("Packaging the %s stage (the first run downloads the Lambda wheels from PyPI)", STAGE)
        package(STAGE, out)
        zip_path = out / "deployment.zip"
        zip_mb = zip_path.stat().st_size / 1024 / 1024
        unzipped = Path(scratch) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(unzipped)
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(unzipped),
               "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1",
               **stage_environment(read_config(), STAGE)}
        app_s, boto3_s = [], []
        for _round in range(ROUNDS):  # interleaved, so that a busy moment weighs on both
            app_s.append(_import_seconds("app", unzipped, env))
            boto3_s.append(_import_seconds("boto3", unzipped, env))
    app_median, boto3_median = statistics.median(app_s), statistics.median(boto3_s)
    log.info("package %.1f MiB; import app %.3f s, import boto3 %.3f s (medians of %d)", zip_mb, app_median,
             boto3_median, ROUNDS)
    return {
        "package_zip_mb": round(zip_mb, 2),
        "import_app_s": round(app_median, 3),
        "import_boto3_s": round(boto3_median, 3),
        "import_app_over_boto3": round(app_median / boto3_median, 2),
    }


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(json.dumps(run()))
