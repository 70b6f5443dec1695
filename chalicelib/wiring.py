"""Wiring: every handler gets its services from one container, built lazily.

Nothing here runs at import time, so a Lambda function pays only for what its
handler touches. Tests build a `Container` with their own clock, adapters or
clients and install it with `use_container`.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.core.api import provide_wiring
from chalicelib.core.audit_trail import WriteMade, provide_audit
from chalicelib.core.clock import Clock, SystemClock
from chalicelib.core.principal import Principal
from chalicelib.core.settings import Settings, get_settings

if TYPE_CHECKING:  # the types only: each part is imported when it is first used
    from chalicelib.accounts.access import AccessService
    from chalicelib.accounts.api_key_repository import ApiKeyRepository
    from chalicelib.accounts.channel_repository import ChannelRepository
    from chalicelib.accounts.channels import ChannelService
    from chalicelib.accounts.connect import ConnectService
    from chalicelib.accounts.connect_repository import ConnectStateRepository
    from chalicelib.accounts.health import HealthService
    from chalicelib.accounts.tokens import TokenService
    from chalicelib.accounts.workspace_repository import WorkspaceRepository
    from chalicelib.audit.audit_log import AuditLog
    from chalicelib.audit.audit_repository import AuditRepository
    from chalicelib.core.crypto import SecretBox
    from chalicelib.core.outbound import OutboundPolicy
    from chalicelib.inbox.config_repository import InboxConfigRepository
    from chalicelib.inbox.conversation_repository import InboxRepository
    from chalicelib.inbox.conversations import InboxService
    from chalicelib.inbox.event_consumer import InboxEventConsumer, InboxStreamConsumer
    from chalicelib.inbox.inbox_counts import InboxMetrics
    from chalicelib.inbox.inbox_queue import InboxQueue
    from chalicelib.inbox.ingest import IngestService
    from chalicelib.inbox.listening import ListeningService
    from chalicelib.inbox.polling import InboxPoller
    from chalicelib.inbox.saved_replies import SavedReplyService
    from chalicelib.inbox.webhook_event_repository import WebhookEventRepository
    from chalicelib.inbox.webhooks import WebhookService
    from chalicelib.metrics.counters import CounterService
    from chalicelib.metrics.metric_repository import MetricsRepository, WorkspaceRegistry
    from chalicelib.metrics.outcome_consumer import OutcomeConsumer
    from chalicelib.metrics.reports import ReportService
    from chalicelib.metrics.rollup import RollupService
    from chalicelib.networks.base import ConnectsByOAuth, NetworkAdapter, OAuthApp
    from chalicelib.outbound_webhooks.delivery_queue import DeliveryQueue
    from chalicelib.outbound_webhooks.endpoint_repository import EndpointRepository
    from chalicelib.outbound_webhooks.endpoints import EndpointService
    from chalicelib.outbound_webhooks.inbox_notifications import InboxNotifications
    from chalicelib.outbound_webhooks.report_notifications import ReportNotifications
    from chalicelib.outbound_webhooks.sending import WebhookEmitter, WebhookSender
    from chalicelib.publishing.calendar import CalendarService
    from chalicelib.publishing.delivery_repository import DeliveryRepository
    from chalicelib.publishing.engine import PublishingEngine
    from chalicelib.publishing.media import MediaService
    from chalicelib.publishing.media_repository import MediaRepository
    from chalicelib.publishing.post_repository import PostRepository
    from chalicelib.publishing.posts import PostService
    from chalicelib.publishing.publish_queue import PublishQueue
    from chalicelib.publishing.sandbox_store import SandboxStore

# Networks whose server is whatever the channel's credentials name: their HTTP goes through the outbound policy.
CLIENT_CHOSEN_HOSTS = ("bluesky", "mastodon")


class Container:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None,
                 adapter_overrides: dict[str, NetworkAdapter] | None = None,
                 clients: dict[str, Any] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.settings = settings or get_settings()
        self.clock = clock or SystemClock()
        self._adapter_overrides = dict(adapter_overrides or {})
        self._clients = dict(clients or {})
        self._adapters: dict[str, NetworkAdapter] = {}
        self._sleep = sleep

    def client(self, service: str) -> Any:  # a boto3 client: botocore ships no types
        if service not in self._clients:
            from chalicelib.core import aws

            self._clients[service] = aws.client(service)
        return self._clients[service]

    # -- repositories ------------------------------------------------------------

    @cached_property
    def workspace_repository(self) -> WorkspaceRepository:
        from chalicelib.accounts.workspace_repository import WorkspaceRepository

        return WorkspaceRepository()

    @cached_property
    def api_key_repository(self) -> ApiKeyRepository:
        from chalicelib.accounts.api_key_repository import ApiKeyRepository

        return ApiKeyRepository()

    @cached_property
    def channel_repository(self) -> ChannelRepository:
        from chalicelib.accounts.channel_repository import ChannelRepository

        return ChannelRepository()

    @cached_property
    def post_repository(self) -> PostRepository:
        from chalicelib.publishing.post_repository import PostRepository

        return PostRepository(self.settings.due_shards)

    @cached_property
    def sandbox_store(self) -> SandboxStore:
        from chalicelib.publishing.sandbox_store import SandboxStore

        return SandboxStore()

    @cached_property
    def secret_box(self) -> SecretBox:
        from chalicelib.core.crypto import SecretBox

        return SecretBox(self.client("kms"), self.settings.kms_key_id)

    # -- networks ----------------------------------------------------------------

    @cached_property
    def outbound(self) -> OutboundPolicy:
        """The policy for every HTTP request made to an address a client chose (chalicelib/core/outbound.py)."""
        from chalicelib.core.outbound import OutboundPolicy

        return OutboundPolicy.from_settings(self.settings)

    def adapter(self, network: str) -> NetworkAdapter:
        if network in self._adapter_overrides:
            return self._adapter_overrides[network]
        if network not in self._adapters:
            self._adapters[network] = self._make_adapter(network)
        return self._adapters[network]

    def _make_adapter(self, network: str) -> NetworkAdapter:
        from chalicelib.networks.registry import network_module

        if network == "sandbox":
            from chalicelib.networks.sandbox import SandboxAdapter

            kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
            return SandboxAdapter(self.sandbox_store, self.clock, self.settings.public_base_url, **kwargs)
        module = network_module(network)
        if network in ("facebook", "instagram"):  # one module serves both Meta networks
            return module.make_adapter(clock=self.clock, network=network, base_url=self.settings.meta_graph_url)
        if network == "discord":  # a client-given webhook URL: the outbound policy, on the configured Discord host
            return module.make_adapter(clock=self.clock, base_url=self.settings.discord_api_url, policy=self.outbound)
        if network in CLIENT_CHOSEN_HOSTS:
            return module.make_adapter(clock=self.clock, policy=self.outbound)
        if network == "tiktok":  # an unaudited app may only post privately: its content rules say so
            return module.make_adapter(clock=self.clock, base_url=self.settings.tiktok_api_url,
                                       app_audited=self.settings.tiktok_app_audited)
        if network == "reddit":  # Reddit refuses a call without the app's own descriptive User-Agent
            return module.make_adapter(clock=self.clock, base_url=self.settings.reddit_api_url,
                                       user_agent=self.settings.reddit_user_agent)
        if network == "youtube":  # uploads go to their own host
            return module.make_adapter(clock=self.clock, base_url=self.settings.youtube_api_url,
                                       upload_url=self.settings.youtube_upload_url)
        if network == "google_business":  # local posts on v4; locations on Business Information v1
            return module.make_adapter(clock=self.clock, base_url=self.settings.google_business_api_url,
                                       business_information_url=self.settings.google_business_information_url)
        base_url = {"x": self.settings.x_api_url, "linkedin": self.settings.linkedin_api_url,
                    "tiktok": self.settings.tiktok_api_url, "threads": self.settings.threads_api_url,
                    "pinterest": self.settings.pinterest_api_url,
                    "telegram": self.settings.telegram_api_url,
                    "whatsapp": self.settings.meta_graph_url}.get(network)
        if base_url:
            return module.make_adapter(clock=self.clock, base_url=base_url)
        return module.make_adapter(clock=self.clock)

    def oauth(self, network: str) -> tuple[ConnectsByOAuth, OAuthApp]:
        """The network's OAuth side and Herald's app on it, both from settings (never from a request). The
        app's id or secret is empty when the operator has not set them: the caller says which to set."""
        from chalicelib.networks.base import OAuthApp
        from chalicelib.networks.registry import network_module

        s, clock = self.settings, self.clock
        module = network_module(network)
        # Facebook Login: one grant reaches Pages and their Instagram accounts.
        meta = lambda: (module.make_oauth(clock=clock, graph_url=s.meta_graph_url,  # noqa: E731
                                          authorize_url=s.meta_authorize_url,
                                          config_id=s.meta_login_config_id or None),
                        OAuthApp(s.meta_app_id, s.meta_app_secret))
        builders: dict[str, Callable[[], tuple[ConnectsByOAuth, OAuthApp]]] = {
            "facebook": meta, "instagram": meta,
            "threads": lambda: (module.make_oauth(clock=clock, api_url=s.threads_api_url,
                                                  authorize_url=s.threads_authorize_url),
                                OAuthApp(s.threads_app_id, s.threads_app_secret)),
            "linkedin": lambda: (module.make_oauth(clock=clock, api_url=s.linkedin_api_url,
                                                   authorize_url=s.linkedin_authorize_url,
                                                   token_url=s.linkedin_token_url),
                                 OAuthApp(s.linkedin_client_id, s.linkedin_client_secret)),
            "x": lambda: (module.make_oauth(clock=clock, authorize_url=s.x_authorize_url, api_url=s.x_api_url),
                          OAuthApp(s.x_client_id, s.x_client_secret)),
            "pinterest": lambda: (module.make_oauth(clock=clock, api_url=s.pinterest_api_url,
                                                    authorize_url=s.pinterest_authorize_url),
                                  OAuthApp(s.pinterest_client_id, s.pinterest_client_secret)),
            "tiktok": lambda: (module.make_oauth(clock=clock, api_url=s.tiktok_api_url,
                                                 authorize_url=s.tiktok_authorize_url),
                               OAuthApp(s.tiktok_client_key, s.tiktok_client_secret)),
            "reddit": lambda: (module.make_oauth(clock=clock, auth_url=s.reddit_auth_url, api_url=s.reddit_api_url,
                                                 user_agent=s.reddit_user_agent),
                               OAuthApp(s.reddit_client_id, s.reddit_client_secret)),
            # One OAuth client of Herald's Google Cloud project serves YouTube and Business Profile.
            "youtube": lambda: (module.make_oauth(clock=clock, api_url=s.youtube_api_url,
                                                  authorize_url=s.google_authorize_url, token_url=s.google_token_url),
                                OAuthApp(s.google_client_id, s.google_client_secret)),
            "google_business": lambda: (module.make_oauth(
                clock=clock, account_management_url=s.google_account_management_url,
                business_information_url=s.google_business_information_url,
                authorize_url=s.google_authorize_url, token_url=s.google_token_url),
                OAuthApp(s.google_client_id, s.google_client_secret)),
        }
        if network not in builders:
            raise KeyError(f"{network} does not connect by OAuth")
        return builders[network]()

    # -- services ----------------------------------------------------------------

    @cached_property
    def access(self) -> AccessService:
        from chalicelib.accounts.access import AccessService

        return AccessService(self.workspace_repository, self.api_key_repository, self.clock, self.secret_box,
                             registry=self.metrics_registry)

    @cached_property
    def channels(self) -> ChannelService:
        from chalicelib.accounts.channels import ChannelService

        def status_changed(workspace_id: str, channel_id: str) -> None:
            self.health.channel_changed(workspace_id, channel_id)  # its scheduled posts at risk, or no longer
            row = self.channel_repository.get(workspace_id, channel_id)
            if row is not None and row.status in ("needs_reauth", "disabled"):
                self.webhook_emitter.emit(workspace_id, "channel.needs_reauth", {
                    "channel_id": channel_id, "network": row.network, "name": row.name, "handle": row.handle,
                    "status": row.status}, event_key=f"{channel_id}:{row.status}:{row.updated_at}")

        return ChannelService(self.channel_repository, self.secret_box, self.adapter, self.clock,
                              tokens=self.tokens, on_status_change=status_changed)

    @cached_property
    def tokens(self) -> TokenService:
        from chalicelib.accounts.tokens import TokenService, refreshing_oauth

        def revoked(row: Any, _why: str) -> None:
            self.channels.mark_needs_reauth(row.workspace_id, row.channel_id, token_version=row.token_version)

        return TokenService(self.channel_repository, self.secret_box, refreshing_oauth(self.oauth),
                            self.clock, sleep=self._sleep, on_revoked=revoked)

    @cached_property
    def health(self) -> HealthService:
        from chalicelib.accounts.health import HealthService

        return HealthService(self.channels, self.tokens, self.adapter, self.post_repository, self.clock,
                             meta_app_secret=self.settings.meta_app_secret)

    @cached_property
    def connect_state_repository(self) -> ConnectStateRepository:
        from chalicelib.accounts.connect_repository import ConnectStateRepository

        return ConnectStateRepository()

    @cached_property
    def connect(self) -> ConnectService:
        from chalicelib.accounts.connect import ConnectService

        return ConnectService(self.connect_state_repository, self.channels, self.secret_box, self.oauth, self.clock,
                              allow_loopback_redirects=self.settings.allow_private_urls)

    @cached_property
    def posts(self) -> PostService:
        from chalicelib.publishing.posts import PostService

        return PostService(self.post_repository, self.channel_repository, self.clock,
                           engine=self.engine, media=self.media,
                           workspace_timezone=lambda ws: self.access.get_workspace(ws).timezone,
                           adapters=self.adapter)

    @cached_property
    def media_repository(self) -> MediaRepository:
        from chalicelib.publishing.media_repository import MediaRepository

        return MediaRepository()

    @cached_property
    def media(self) -> MediaService:
        from chalicelib.publishing.media import MediaService

        return MediaService(self.media_repository, self.client("s3"), self.settings.media_bucket, self.clock,
                            policy=self.outbound)

    @cached_property
    def delivery_repository(self) -> DeliveryRepository:
        from chalicelib.publishing.delivery_repository import DeliveryRepository
        from chalicelib.publishing.post_status import final_post_status

        kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
        return DeliveryRepository(self.post_repository, final_post_status, self.clock, **kwargs)

    @cached_property
    def publish_queue(self) -> PublishQueue:
        from chalicelib.publishing.publish_queue import PublishQueue

        return PublishQueue(self.client("sqs"), self.settings.queue("publish"))

    @cached_property
    def tick_queue(self) -> PublishQueue:
        """The tick's units, one per due shard (publishing_jobs.tick_worker)."""
        from chalicelib.publishing.publish_queue import PublishQueue

        return PublishQueue(self.client("sqs"), self.settings.queue("tick"))

    @cached_property
    def engine(self) -> PublishingEngine:
        from chalicelib.publishing.budget_repository import BudgetRepository
        from chalicelib.publishing.budgets import Budgets
        from chalicelib.publishing.engine import PublishingEngine

        kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
        budgets = Budgets(BudgetRepository(**kwargs), self.adapter, self.clock)
        return PublishingEngine(self.delivery_repository, self.post_repository, self.channels, self.publish_queue,
                                self.adapter, self.media, self.clock, tick_threads=self.settings.tick_threads,
                                budgets=budgets, tick_queue=self.tick_queue, **kwargs)

    @cached_property
    def calendar(self) -> CalendarService:
        from chalicelib.publishing.calendar import CalendarService

        return CalendarService(self.post_repository, self.clock)

    # -- metrics -------------------------------------------------------------------

    @cached_property
    def metrics_repository(self) -> MetricsRepository:
        from chalicelib.metrics.metric_repository import MetricsRepository

        return MetricsRepository()

    @cached_property
    def outcome_consumer(self) -> OutcomeConsumer:
        """Counts the engine's final outcomes from the posts table's stream, and announces them."""
        from chalicelib.metrics.outcome_consumer import OutcomeConsumer

        return OutcomeConsumer(self.metrics_repository, self.post_repository.get, self.webhook_emitter, self.clock)

    @cached_property
    def metrics_registry(self) -> WorkspaceRegistry:
        from chalicelib.metrics.metric_repository import WorkspaceRegistry

        return WorkspaceRegistry()

    @cached_property
    def counters(self) -> CounterService:
        """The recording API the inbox, listening and replies call (services/counters.py)."""
        from chalicelib.metrics.counters import CounterService, WorkspaceTimezones

        def lookup(workspace_id: str) -> str | None:
            row = self.workspace_repository.get(workspace_id)
            return row.timezone if row else None

        return CounterService(self.metrics_repository, WorkspaceTimezones(lookup, self.clock))

    @cached_property
    def rollup(self) -> RollupService:
        from chalicelib.metrics.rollup import RollupService

        return RollupService(self.metrics_repository, self.metrics_registry, self.channel_repository,
                             self.channels.context_for, self.adapter, self.clock,
                             period_closed_hooks=[self.report_notifications.period_closed])

    @cached_property
    def reports(self) -> ReportService:
        from chalicelib.metrics.reports import ReportService

        return ReportService(self.metrics_repository, self.metrics_registry, self.channel_repository,
                             self.access.get_workspace, self.clock)

    # -- inbox -------------------------------------------------------------------

    @cached_property
    def webhook_event_repository(self) -> WebhookEventRepository:
        from chalicelib.inbox.webhook_event_repository import WebhookEventRepository

        return WebhookEventRepository()

    @cached_property
    def inbox_repository(self) -> InboxRepository:
        from chalicelib.inbox.conversation_repository import InboxRepository

        return InboxRepository()

    @cached_property
    def inbox_config_repository(self) -> InboxConfigRepository:
        from chalicelib.inbox.config_repository import InboxConfigRepository

        return InboxConfigRepository()

    @cached_property
    def inbox_queue(self) -> InboxQueue:
        from chalicelib.inbox.inbox_queue import InboxQueue

        return InboxQueue(self.client("sqs"), self.settings.queue("inbox_events"))

    @cached_property
    def ingest(self) -> IngestService:
        from chalicelib.inbox.ingest import IngestService

        return IngestService(self.channel_repository, self.webhook_event_repository, self.inbox_queue,
                             self.clock, applied=lambda stored: self.inbox.has_event(stored))

    @cached_property
    def webhooks(self) -> WebhookService:
        from chalicelib.inbox.webhooks import WebhookService

        return WebhookService(self.settings, self.ingest, self.inbox_config_repository, self.clock,
                              on_revoked=lambda network, account: self.health.deauthorize_account(network, account))

    @cached_property
    def saved_replies(self) -> SavedReplyService:
        from chalicelib.inbox.saved_replies import SavedReplyService

        return SavedReplyService(self.inbox_config_repository, self.clock)

    @cached_property
    def inbox(self) -> InboxService:
        from chalicelib.inbox.conversations import InboxService

        return InboxService(self.inbox_repository, self.channels, self.adapter, self.saved_replies,
                            self.clock, metrics=self.inbox_metrics)

    @cached_property
    def inbox_metrics(self) -> InboxMetrics:
        from chalicelib.inbox.inbox_counts import InboxMetrics

        return InboxMetrics(self.counters, self.clock)

    @cached_property
    def listening(self) -> ListeningService:
        from chalicelib.inbox.listening import ListeningService

        return ListeningService(self.inbox_config_repository, self.channel_repository, self.clock)

    @cached_property
    def inbox_consumer(self) -> InboxEventConsumer:
        from chalicelib.inbox.event_consumer import InboxEventConsumer

        return InboxEventConsumer(self.inbox)

    @cached_property
    def inbox_stream_consumer(self) -> InboxStreamConsumer:
        """Threads what the queue consumer wrote, from the inbox table's stream: conversations, listening,
        counters and webhook events, off the ingest path."""
        from chalicelib.inbox.event_consumer import InboxStreamConsumer

        return InboxStreamConsumer(self.inbox, self.listening,
                                   after_ingest_hooks=[self.inbox_metrics.after_ingest,
                                                       self.inbox_notifications.after_ingest])

    @cached_property
    def inbox_poller(self) -> InboxPoller:
        from chalicelib.inbox.polling import InboxPoller

        return InboxPoller(self.channels, self.channel_repository, self.inbox_config_repository, self.ingest,
                           self.adapter, self.clock)

    # -- audit log ---------------------------------------------------------------

    @cached_property
    def audit_repository(self) -> AuditRepository:
        from chalicelib.audit.audit_repository import AuditRepository

        return AuditRepository()

    @cached_property
    def audit_log(self) -> AuditLog:
        from chalicelib.audit.audit_log import AuditLog

        def retention_of(workspace_id: str) -> int | None:
            row = self.workspace_repository.get(workspace_id)
            return row.audit_retention_days if row is not None else None

        return AuditLog(self.audit_repository, retention_of, self.clock)

    # -- outbound webhooks ------------------------------------------------------

    @cached_property
    def webhook_endpoint_repository(self) -> EndpointRepository:
        from chalicelib.outbound_webhooks.endpoint_repository import EndpointRepository

        return EndpointRepository()

    @cached_property
    def webhook_delivery_queue(self) -> DeliveryQueue:
        from chalicelib.outbound_webhooks.delivery_queue import DeliveryQueue

        return DeliveryQueue(self.client("sqs"), self.settings.queue("webhook_deliveries"))

    @cached_property
    def webhook_endpoints(self) -> EndpointService:
        from chalicelib.outbound_webhooks.endpoints import EndpointService

        return EndpointService(self.webhook_endpoint_repository, self.secret_box, self.outbound,
                               self.webhook_delivery_queue, self.clock)

    @cached_property
    def webhook_emitter(self) -> WebhookEmitter:
        """What every feature calls when something a subscriber may want happened."""
        from chalicelib.outbound_webhooks.sending import WebhookEmitter

        return WebhookEmitter(self.webhook_endpoint_repository, self.webhook_delivery_queue, self.clock)

    @cached_property
    def inbox_notifications(self) -> InboxNotifications:
        from chalicelib.outbound_webhooks.inbox_notifications import InboxNotifications

        return InboxNotifications(self.webhook_emitter)

    @cached_property
    def report_notifications(self) -> ReportNotifications:
        from chalicelib.outbound_webhooks.report_notifications import ReportNotifications

        return ReportNotifications(self.webhook_emitter, self.settings.public_base_url)

    @cached_property
    def webhook_sender(self) -> WebhookSender:
        from dataclasses import replace

        from chalicelib.outbound_webhooks.sending import WebhookSender

        # A webhook is a POST: a redirect is an answer (a failure), never followed.
        return WebhookSender(self.webhook_endpoint_repository, self.secret_box, replace(self.outbound, max_redirects=0),
                             self.webhook_delivery_queue, self.clock)


_current: list[Container] = []


def container() -> Container:
    if not _current:
        _current.append(Container())
    return _current[0]


def use_container(new: Container) -> Container:
    _current[:] = [new]
    return new


def authenticate(deps: Container, headers: dict[str, str]) -> Principal:
    return deps.access.authenticate(headers)


def record_write(deps: Container, write: WriteMade) -> None:
    deps.audit_log.record(deps, write)


provide_wiring(container, authenticate)
provide_audit(record_write)
