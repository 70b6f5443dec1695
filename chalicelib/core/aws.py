"""boto3 clients, made lazily and once per process, pointed at the emulation locally."""
from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.core.settings import MAX_POOL_CONNECTIONS, get_settings


@cache
def client(service: str) -> Any:
    import boto3  # imported here: the API's cold start should not pay for it twice
    from botocore.config import Config

    settings = get_settings()
    extra: dict[str, Any] = {}
    if service == "s3":
        extra["s3"] = {"addressing_style": "path"}
        # SigV4 presigned URLs sign Content-Length and Content-Type (SigV2 cannot sign the length).
        extra["signature_version"] = "s3v4"
    return boto3.session.Session().client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(retries={"max_attempts": 3, "mode": "standard"},
                      max_pool_connections=MAX_POOL_CONNECTIONS, **extra),
    )
