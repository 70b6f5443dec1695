"""Starts and stops the whole local stack: AWS emulation, resources, saved state, the app's
HTTP API, its schedules and its queue consumers."""
from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from chalice.app import Chalice
from chalice.config import Config

from infra.local.aws_emulation import AwsClients, AwsEmulation, PortBusyError, aws_clients, ensure_port_free
from infra.local.bucket_snapshots import BucketSnapshots
from infra.local.environment import STAGE, UNSET_VARIABLES, LocalOptions, app_environment, write_env_file
from infra.local.http_gateway import ApiGateway, HttpServer
from infra.local.kms_keys import KmsKeyKeeper
from infra.local.lambda_runtime import LOCAL_ACCOUNT_ID, LambdaEnvironment, read_chalice_config
from infra.local.provision import Provisioner
from infra.local.scheduler import Scheduler, scheduled_jobs
from infra.local.sqs_poller import QueuePoller, sqs_sources
from infra.local.state_files import SaveReport
from infra.local.stream_poller import StreamProcess, stream_sources
from infra.local.table_snapshots import TableSnapshots
from infra.resources import resources

log = logging.getLogger("infra.local")


def app_project_dir(spec: str) -> Path:
    """The folder of the app's module (where `.chalice/` lives), found without importing the app."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    found = importlib.util.find_spec(spec.partition(":")[0])
    if found is None or not found.origin:
        raise ModuleNotFoundError(f"cannot find the app module of {spec!r} from {os.getcwd()}")
    return Path(found.origin).resolve().parent


def load_app(spec: str) -> Chalice:
    """Import `module:attribute` (the attribute defaults to `app`)."""
    module_name, _, attribute = spec.partition(":")
    app = getattr(importlib.import_module(module_name), attribute or "app")
    if not isinstance(app, Chalice):
        raise TypeError(f"{spec} is a {type(app).__name__}, not a Chalice app")
    return app


def lambda_environment_variables(chalice_config: dict[str, Any]) -> dict[str, str]:
    """What `.chalice/config.json` sets for the local stage, as Lambda would set it."""
    return dict(Config(chalice_stage=STAGE, config_from_disk=chalice_config).environment_variables)


class StateSaver:
    """Writes tables and buckets to the state directory every few seconds, and once more at the end.

    SQS messages are not saved: after a restart the queues start empty, and the app's
    scheduled tick finds any delivery whose message was lost and queues it again.
    """

    def __init__(self, tables: TableSnapshots, buckets: BucketSnapshots,
                 every_s: float = 2.0, also: list[Callable[[], None]] | None = None) -> None:
        self._tables = tables
        self._buckets = buckets
        # Other state saved with them (the emulated user pool's users).
        self._also = list(also or [])
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.final: SaveReport | None = None  # the save made on stop, once it has run

    def also(self, save: Callable[[], None]) -> None:
        self._also.append(save)

    def save(self) -> SaveReport:
        """Each table or bucket that fails is logged at ERROR by the snapshots themselves."""
        with self._lock:
            report = self._tables.save().merge(self._buckets.save())
            for save in self._also:
                try:
                    save()
                except Exception:
                    log.exception("Saving the local user pool's users failed")
        if report.changed:
            log.debug("Saved %s", ", ".join(report.changed))
        return report

    def _loop(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self.save()
            except Exception:
                log.exception("Saving the local state failed (will try again)")

    def start(self) -> None:
        if self._every_s <= 0:  # saved on exit only
            return
        self._thread = threading.Thread(target=self._loop, name="state-saver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.final = self.save()

    def unsaved(self) -> list[str]:
        """What the last save could not write, each with why and where its last good copy is."""
        if self.final is None:
            return ["the final save did not run to the end (see the error above)"]
        return [f"table {name} ({reason}); {self._tables.last_good(name)}"
                if name in self._tables.names else f"bucket {name} ({reason}); {self._buckets.last_good(name)}"
                for name, reason in self.final.failed.items()]


def run_app_bootstrap(state_dir: Path) -> dict[str, Any] | None:
    """Call `chalicelib.accounts.admin.ensure_demo_workspace(state_dir)` when the app provides it."""
    try:
        found = importlib.util.find_spec("chalicelib.accounts.admin") is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        return None
    ensure = getattr(importlib.import_module("chalicelib.accounts.admin"), "ensure_demo_workspace", None)
    return ensure(state_dir) if ensure else None


class LocalStack:
    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        self._stoppers: list[tuple[str, Callable[[], None]]] = []
        self.saver: StateSaver | None = None
        self._outputs: dict[str, Any] = {}

    def start(self) -> None:
        options = self.options
        started = time.monotonic()
        options.state_dir.mkdir(parents=True, exist_ok=True)
        ensure_port_free(options.host, options.port, "HTTP API")

        chalice_config = read_chalice_config(app_project_dir(options.app_spec))
        env = {**lambda_environment_variables(chalice_config), **app_environment(options)}
        for name in UNSET_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(env)
        # moto's request recorder (bench/webhooks.py) writes here, read when moto is first imported, not in the cwd.
        os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(options.state_dir / "moto-requests"))

        from infra.local.cognito_pool import use_stable_ids

        use_stable_ids()  # the same user pool and client ids at every start
        emulation = AwsEmulation(options.host, options.aws_port)
        emulation.start()
        self._stoppers.append(("AWS emulation", emulation.stop))
        if options.dynamodb_meter is not None:
            self._meter_dynamodb_writes(options.dynamodb_meter)
        clients = aws_clients(emulation.endpoint_url, options.region)

        saver = self.saver = self._provision_and_restore(clients)
        env.update(self._people_environment(clients))

        app = load_app(options.app_spec)
        lambda_env = LambdaEnvironment(app=app, stage=STAGE, region=options.region,
                                       config_from_disk=chalice_config)

        try:
            bootstrap = run_app_bootstrap(options.state_dir)
        except Exception:
            log.exception("The app's start-up hook (chalicelib.accounts.admin.ensure_demo_workspace) failed")
            bootstrap = None

        # Before the API answers, so whoever sees it answering also finds the file.
        write_env_file(options.state_dir / "env", env)
        from infra.local.console_files import ConsoleFiles

        gateway = ApiGateway(app, lambda_env.config("api_handler"), console=ConsoleFiles())
        http = HttpServer(gateway, options.host, options.port)
        http.start()
        self._stoppers.append(("HTTP API", http.stop))

        # Before the queue pollers in the list, so they stop first and the last outcomes are still read.
        # In a process of their own, below the stack's priority: they take neither the workers' interpreter
        # lock nor their CPU (infra/local/stream_poller.py).
        if stream_sources(lambda_env):
            readers = StreamProcess(options.app_spec, emulation.endpoint_url, options.region, STAGE)
            readers.start()
            self._stoppers.append(("stream readers", readers.stop))

        pollers = [QueuePoller(lambda_env, source, clients.sqs, options.workers)
                   for source in sqs_sources(lambda_env)]
        for poller in pollers:
            poller.start()
            self._stoppers.append((f"queue {poller.queue_name}", poller.stop))

        scheduler = Scheduler(lambda_env, scheduled_jobs(lambda_env))
        scheduler.start()
        self._stoppers.append(("scheduler", scheduler.stop))

        # Stopped just before the AWS emulation, so the final save runs once nothing else writes.
        saver.start()
        self._stoppers.insert(1, ("state saver", saver.stop))

        log.info("Local stack ready in %.1f s: API %s, AWS emulation %s, state in %s/",
                 time.monotonic() - started, options.api_url, options.aws_endpoint_url, options.state_dir)
        if bootstrap:
            print(f"Demo workspace: {json.dumps(bootstrap)}", flush=True)
        print(f"Web console: {options.api_url}/ (sign in with the key in {options.state_dir}/api-key)", flush=True)

    def _people_environment(self, clients: AwsClients) -> dict[str, str]:
        from chalicelib.core.settings import get_settings
        from infra.local.cognito_pool import CognitoUsers, people_environment

        people = people_environment(self._outputs, clients.ses)
        os.environ.update(people)
        if clients.cognito is not None and people["HERALD_COGNITO_USER_POOL_ID"] and self.saver is not None:
            users = CognitoUsers(self.options.state_dir / "cognito-users.json", clients.cognito,
                                 people["HERALD_COGNITO_USER_POOL_ID"], LOCAL_ACCOUNT_ID, self.options.region)
            restored = users.restore()
            if restored:
                log.info("Restored %d user(s) of the user pool", restored)
            self.saver.also(users.save)
        get_settings.cache_clear()  # read again with the pool's ids, before the app is loaded
        return people

    def _meter_dynamodb_writes(self, path: Path) -> None:
        from infra.local.dynamodb_meter import DynamoDBWriteMeter

        meter = DynamoDBWriteMeter()
        meter.start()

        def stop_and_save() -> None:
            meter.stop()
            meter.save(path)

        # Right after the AWS emulation in the list: it runs once everything that writes has stopped.
        self._stoppers.append(("DynamoDB write meter", stop_and_save))
        log.info("Counting DynamoDB writes into %s (written on exit)", path)

    def _provision_and_restore(self, clients: AwsClients) -> StateSaver:
        options = self.options
        definitions = resources(STAGE)
        keys = KmsKeyKeeper(options.state_dir / "kms-keys.json", clients.kms, LOCAL_ACCOUNT_ID,
                            options.region)
        outputs = self._outputs = Provisioner(clients, keys, options.region, LOCAL_ACCOUNT_ID).provision(definitions)

        def names(resource_type: str) -> list[str]:
            return [outputs[logical_id]["Ref"] for logical_id, resource in definitions.items()
                    if resource["Type"] == resource_type and logical_id in outputs]

        tables = TableSnapshots(clients.dynamodb, options.state_dir / "dynamodb",
                                names("AWS::DynamoDB::Table"))
        buckets = BucketSnapshots(clients.s3, options.state_dir / "s3", names("AWS::S3::Bucket"))
        restored = {name: count for name, count in {**tables.restore(), **buckets.restore()}.items() if count}
        if restored:
            log.info("Restored saved state: %s",
                     ", ".join(f"{name} ({count})" for name, count in sorted(restored.items())))
        return StateSaver(tables, buckets, every_s=options.save_every_s)

    def stop(self) -> None:
        for label, stop in reversed(self._stoppers):
            started = time.monotonic()
            try:
                stop()
            except Exception:
                log.exception("Stopping the %s failed", label)
            log.debug("Stopped the %s in %.0f ms", label, (time.monotonic() - started) * 1000)
        self._stoppers.clear()


def run(options: LocalOptions) -> int:
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop_requested.is_set():
            log.warning("Stopping at once, without saving")
            os._exit(130)
        log.info("Stopping (press Ctrl-C again to stop at once, without saving)")
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = LocalStack(options)
    try:
        stack.start()
    except PortBusyError as error:
        log.error("Cannot start: %s", error)
        stack.stop()
        return 1
    except BaseException:
        stack.stop()
        raise
    while not stop_requested.wait(0.5):
        pass
    stack.stop()
    return report_stop(options.state_dir, stack.saver.unsaved() if stack.saver else [])


def report_stop(state_dir: Path, unsaved: list[str]) -> int:
    """Says "state saved" only when every table and bucket was; otherwise what was not, and exits 1."""
    if not unsaved:
        log.info("Local stack stopped; state saved in %s/", state_dir)
        return 0
    log.error("Local stack stopped, but NOT all of its state was saved in %s/: %s. "
              "Changes since the last good snapshot are lost.", state_dir, "; ".join(unsaved))
    return 1
