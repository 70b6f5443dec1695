"""`python -m infra.local`: run the local stack (what `make run` starts)."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from infra.local.environment import LocalOptions
from infra.local.runner import run


def parse_options(argv: list[str] | None = None) -> LocalOptions:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=(
        "Run the app locally: its HTTP API, schedules and queue consumers, on an in-process AWS emulation. "
        "Ports come from HERALD_PORT (default 8000) and HERALD_AWS_PORT (default 4566)."))
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--state-dir", default=".local", type=Path,
                        help="where tables, objects and keys are kept between runs (default .local)")
    parser.add_argument("--app", default="app:app",
                        help="the Chalice app as module:attribute (default app:app)")
    parser.add_argument("--verbose", action="store_true", help="log debugging detail too")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return LocalOptions(
        host=args.host,
        port=int(os.environ.get("HERALD_PORT", "8000")),
        aws_port=int(os.environ.get("HERALD_AWS_PORT", "4566")),
        state_dir=args.state_dir,
        app_spec=args.app,
        region=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        workers=int(os.environ.get("HERALD_WORKERS", "4")),
        save_every_s=float(os.environ.get("HERALD_SAVE_EVERY_S", "2")),
        dynamodb_meter=Path(os.environ["HERALD_LOCAL_DYNAMODB_METER"])
        if os.environ.get("HERALD_LOCAL_DYNAMODB_METER") else None,
    )


if __name__ == "__main__":
    raise SystemExit(run(parse_options()))
