"""The AWS emulation: moto's server, in this process, on 127.0.0.1, and boto3 clients for it."""
from __future__ import annotations

import errno
import logging
import socket
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class PortBusyError(RuntimeError):
    pass


def ensure_port_free(host: str, port: int, purpose: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option the servers set, so a port left in TIME_WAIT by our last run counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortBusyError(f"port {port} on {host} ({purpose}) is already in use; "
                                    "is another local stack running?") from None
            raise


@dataclass(frozen=True)
class AwsClients:
    dynamodb: Any
    sqs: Any
    kms: Any
    s3: Any
    # People (chalicelib/people/): the user pool and the mail sender; None where a caller needs neither.
    cognito: Any = None
    ses: Any = None


def aws_clients(endpoint_url: str, region: str) -> AwsClients:
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                    max_pool_connections=32)
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url, config=config)

    return AwsClients(dynamodb=client("dynamodb"), sqs=client("sqs"), kms=client("kms"), s3=client("s3"),
                      cognito=client("cognito-idp"), ses=client("ses"))


class AwsEmulation:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        ensure_port_free(self.host, self.port, "AWS emulation")
        from moto.server import ThreadedMotoServer

        from infra.local.moto_map_keys import keep_empty_map_keys
        from infra.moto_atomic import make_dynamodb_atomic
        from infra.moto_sqs import make_sqs_counts_lazy

        make_dynamodb_atomic()
        make_sqs_counts_lazy()
        keep_empty_map_keys()

        # moto logs every request it serves; our own log says what matters.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
