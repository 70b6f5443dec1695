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
    from chalicelib.ads.ad_repository import AdRepository
    from chalicelib.ads.ads_sync import AdsSync
    from chalicelib.ads.campaigns import CampaignService
    from chalicelib.approval.approval_repository import ApprovalRepository
    from chalicelib.approval.comments import CommentService
    from chalicelib.approval.directory import MemberDirectory
    from chalicelib.approval.notify import ApprovalNotifier
    from chalicelib.approval.outbox import MailSender
    from chalicelib.approval.reviews import ReviewLinks
    from chalicelib.approval.service import ApprovalService, WorkspaceApproval
    from chalicelib.audit.audit_log import AuditLog
    from chalicelib.audit.audit_repository import AuditRepository
    from chalicelib.brand.brand_repository import BrandRepository
    from chalicelib.brand.consistency import BrandConsistency
    from chalicelib.brand.service import BrandService
    from chalicelib.core.crypto import SecretBox
    from chalicelib.core.mail import Mailer
    from chalicelib.core.outbound import OutboundPolicy
    from chalicelib.feeds.feed_repository import FeedRepository
    from chalicelib.feeds.feeds import FeedService
    from chalicelib.giveaways.giveaway_repository import GiveawayRepository
    from chalicelib.giveaways.giveaways import GiveawayService
    from chalicelib.goals.goal_repository import GoalRepository
    from chalicelib.goals.goals import GoalService
    from chalicelib.imports.import_repository import ImportRepository
    from chalicelib.imports.imports import ImportService
    from chalicelib.inbox.config_repository import InboxConfigRepository
    from chalicelib.inbox.conversation_repository import InboxRepository
    from chalicelib.inbox.conversations import InboxService
    from chalicelib.inbox.event_consumer import InboxEventConsumer, InboxStreamConsumer
    from chalicelib.inbox.inbox_counts import InboxMetrics
    from chalicelib.inbox.inbox_queue import InboxQueue
    from chalicelib.inbox.ingest import IngestService
    from chalicelib.inbox.listening import ListeningService
    from chalicelib.inbox.listening_search import ListeningSearcher
    from chalicelib.inbox.polling import InboxPoller
    from chalicelib.inbox.saved_replies import SavedReplyService
    from chalicelib.inbox.webhook_event_repository import WebhookEventRepository
    from chalicelib.inbox.webhooks import WebhookService
    from chalicelib.links.link_repository import LinkRepository
    from chalicelib.links.links import LinkService
    from chalicelib.metrics.counters import CounterService
    from chalicelib.metrics.metric_repository import MetricsRepository, WorkspaceRegistry
    from chalicelib.metrics.outcome_consumer import OutcomeConsumer
    from chalicelib.metrics.reports import ReportService
    from chalicelib.metrics.rollup import RollupService
    from chalicelib.networks.base import ConnectsByOAuth, NetworkAdapter, OAuthApp
    from chalicelib.networks.meta_ads import MetaAds
    from chalicelib.outbound_webhooks.delivery_queue import DeliveryQueue
    from chalicelib.outbound_webhooks.endpoint_repository import EndpointRepository
    from chalicelib.outbound_webhooks.endpoints import EndpointService
    from chalicelib.outbound_webhooks.inbox_notifications import InboxNotifications
    from chalicelib.outbound_webhooks.report_notifications import ReportNotifications
    from chalicelib.outbound_webhooks.sending import WebhookEmitter, WebhookSender
    from chalicelib.people.agencies import AgencyService
    from chalicelib.people.identity import CognitoIdentity
    from chalicelib.people.jwt_verifier import CognitoTokenVerifier
    from chalicelib.people.people import PeopleService
    from chalicelib.planning.planner import Planning
    from chalicelib.planning.queue_repository import QueueRepository
    from chalicelib.planning.queues import QueueService
    from chalicelib.planning.series import SeriesService
    from chalicelib.planning.series_repository import SeriesRepository
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
                           adapters=self.adapter, planner=lambda: self.planning,
                           approval=self.approval_gate, links=self.links)

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
        from chalicelib.ads.ad_report import AdsReport
        from chalicelib.inbox.share_of_voice import ShareOfVoice
        from chalicelib.metrics.reports import ReportService

        return ReportService(self.metrics_repository, self.metrics_registry, self.channel_repository,
                             self.access.get_workspace, self.clock,
                             sections={"goals": lambda ws, first, last: self.goals.report_section(ws, first, last)},
                             tables={"ads": AdsReport(self.ad_repository).section},
                             moment_sections={"share_of_voice": ShareOfVoice(self.inbox_config_repository).section,
                                              "brand_consistency": lambda ws, _start, _end: (
                                                  self.brand_consistency.brand.get_findings(ws))})

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

        return ListeningService(self.inbox_config_repository, self.channel_repository, self.clock,
                                self.workspace_repository)

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

    @cached_property
    def listening_searcher(self) -> ListeningSearcher:
        from chalicelib.inbox.listening_search import ListeningSearcher

        return ListeningSearcher(self.inbox_config_repository, self.listening, self.channels,
                                 self.channel_repository, self.adapter, self.clock,
                                 count_match=self.inbox_metrics.listening_match)

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

    # -- planning: CSV imports and feeds (issue 16) ------------------------------

    @cached_property
    def import_repository(self) -> ImportRepository:
        from chalicelib.imports.import_repository import ImportRepository

        return ImportRepository()

    @cached_property
    def imports(self) -> ImportService:
        from chalicelib.imports.import_queue import ImportQueue
        from chalicelib.imports.imports import ImportService

        queue = ImportQueue(self.client("sqs"), self.settings.queue("post_imports"))
        return ImportService(self.import_repository, self.posts, self.client("s3"), self.settings.media_bucket,
                             queue.send, self.clock)

    @cached_property
    def feed_repository(self) -> FeedRepository:
        from chalicelib.feeds.feed_repository import FeedRepository

        return FeedRepository()

    @cached_property
    def feeds(self) -> FeedService:
        from dataclasses import replace

        from chalicelib.feeds.feeds import FEED_DEADLINE_S, FeedService

        # A read's deadline and the run's budget together stay inside the function's 60 s.
        return FeedService(self.feed_repository, self.posts, replace(self.outbound, deadline_s=FEED_DEADLINE_S),
                           self.clock)


    # -- planning: queues, recurring series, evergreen recycling ---------------------

    @cached_property
    def queue_repository(self) -> QueueRepository:
        from chalicelib.planning.queue_repository import QueueRepository

        return QueueRepository()

    @cached_property
    def series_repository(self) -> SeriesRepository:
        from chalicelib.planning.series_repository import SeriesRepository

        return SeriesRepository()

    @cached_property
    def queues(self) -> QueueService:
        from chalicelib.planning.queues import QueueService

        return QueueService(self.queue_repository, self.posts, self.channel_repository,
                            lambda ws: self.access.get_workspace(ws).timezone, self.clock,
                            best_times=self.reports.best_times)

    @cached_property
    def series(self) -> SeriesService:
        from chalicelib.planning.series import SeriesService

        return SeriesService(self.series_repository, self.posts, self.queues, self.queue_repository,
                             lambda ws: self.access.get_workspace(ws).timezone, self.clock)

    @cached_property
    def planning(self) -> Planning:
        """What PostService hands queued and recurring posts to (publishing/posts.py Planner)."""
        from chalicelib.planning.planner import Planning

        return Planning(self.queues, self.series)


    # -- approval ----------------------------------------------------------------

    @cached_property
    def approval_repository(self) -> ApprovalRepository:
        from chalicelib.approval.approval_repository import ApprovalRepository

        return ApprovalRepository()

    @cached_property
    def approval_mail(self) -> MailSender:
        """Approval's emails, sent by Herald's SES mailer like the invitations."""
        from chalicelib.approval.outbox import MailerSender

        return MailerSender(lambda: self.mailer)

    @cached_property
    def member_directory(self) -> MemberDirectory:
        """Members as @mentions and approval emails see them: the workspace's people (by email) and its API keys."""
        from chalicelib.approval.directory import ApiKeyDirectory, PeopleAndKeys

        return PeopleAndKeys(self.people.members, ApiKeyDirectory(self.access.list_keys))

    @cached_property
    def review_links(self) -> ReviewLinks:
        from datetime import timedelta

        from chalicelib.approval.reviews import ReviewLinks

        return ReviewLinks(self.approval_repository, self.clock, timedelta(hours=self.settings.review_link_hours),
                           timedelta(minutes=self.settings.review_session_minutes))

    @cached_property
    def approval_notifier(self) -> ApprovalNotifier:
        from chalicelib.approval.notify import ApprovalNotifier

        return ApprovalNotifier(self.webhook_emitter, self.approval_mail, self.review_links, self.member_directory,
                                self.settings.public_base_url,
                                console_url=self.settings.console_url or self.settings.public_base_url)

    @cached_property
    def approval_gate(self) -> WorkspaceApproval:
        from chalicelib.approval.service import WorkspaceApproval

        return WorkspaceApproval(self.approval_repository, self.approval_notifier, self.clock)

    @cached_property
    def approval(self) -> ApprovalService:
        from chalicelib.approval.service import ApprovalService

        return ApprovalService(self.approval_repository, self.posts, self.approval_notifier, self.member_directory,
                               self.clock, channels_of=self.channel_repository.get_many)

    @cached_property
    def comments(self) -> CommentService:
        from chalicelib.approval.comments import CommentService

        return CommentService(self.approval_repository, self.approval.reachable, self.member_directory,
                              self.approval_notifier, self.clock)
    # -- people ------------------------------------------------------------------

    @cached_property
    def mailer(self) -> Mailer:
        from chalicelib.core.mail import SesMailer

        return SesMailer(self.client("ses"), self.settings.mail_from)

    @cached_property
    def identity(self) -> CognitoIdentity:
        from chalicelib.people.identity import CognitoIdentity

        return CognitoIdentity(self.client("cognito-idp"), self.settings.cognito_user_pool_id,
                               self.settings.cognito_client_id)

    @cached_property
    def token_verifier(self) -> CognitoTokenVerifier:
        from chalicelib.people.jwt_verifier import CognitoTokenVerifier, JwksCache

        s = self.settings
        pool = s.cognito_user_pool_id
        # The issuer is always Cognito's address; the keys come from the emulation on the local stack.
        host = s.aws_endpoint_url or f"https://cognito-idp.{s.region}.amazonaws.com"
        return CognitoTokenVerifier(f"https://cognito-idp.{s.region}.amazonaws.com/{pool}", s.cognito_client_id,
                                    JwksCache(f"{host.rstrip('/')}/{pool}/.well-known/jwks.json"), self.clock)

    @cached_property
    def people(self) -> PeopleService:
        from chalicelib.people.people import PeopleService
        from chalicelib.people.people_repository import (
            InvitationRepository,
            MembershipRepository,
            PasswordResetRepository,
            UserRepository,
        )

        def workspace_of(workspace_id: str) -> tuple[str, str | None] | None:
            row = self.workspace_repository.get(workspace_id)
            return (row.name, row.agency_id) if row is not None else None

        return PeopleService(UserRepository(), MembershipRepository(), InvitationRepository(),
                             PasswordResetRepository(), self.identity, lambda: self.token_verifier, self.access,
                             workspace_of, lambda: self.mailer, self.clock, self.settings.public_base_url)

    @cached_property
    def agencies(self) -> AgencyService:
        from chalicelib.people.agencies import AgencyService
        from chalicelib.people.client_reads import ServiceClientReads
        from chalicelib.people.people_repository import AgencyRepository

        return AgencyService(AgencyRepository(), self.people, self.workspace_repository.of_agency,
                             self.access.create_client_workspace,
                             ServiceClientReads(self.calendar, self.posts, self.inbox, self.reports), self.clock)

    # -- links and goals -------------------------------------------------------------

    @cached_property
    def link_repository(self) -> LinkRepository:
        from chalicelib.links.link_repository import LinkRepository

        return LinkRepository()

    @cached_property
    def links(self) -> LinkService:
        """Short links, their clicks and conversions (chalicelib/links/)."""
        from chalicelib.links.links import LinkService

        def workspace_links(workspace_id: str) -> dict[str, Any] | None:
            row = self.workspace_repository.get(workspace_id)
            return row.links if row else None

        return LinkService(self.link_repository, self.metrics_repository, workspace_links,
                           self.counters.timezones, self.clock, self._links_secret(),
                           self.settings.links_base_url or self.settings.public_base_url)

    @cached_property
    def goal_repository(self) -> GoalRepository:
        from chalicelib.goals.goal_repository import GoalRepository

        return GoalRepository()

    @cached_property
    def goals(self) -> GoalService:
        """Goals and their progress, from the reports' own figures (chalicelib/goals/)."""
        from chalicelib.ads.ad_goals import AdGoalFigures
        from chalicelib.goals.goals import GoalService

        def post_channels(workspace_id: str, post_id: str) -> list[str]:
            found = self.post_repository.get(workspace_id, post_id)
            return list(found[0].channel_ids) if found else []

        return GoalService(self.goal_repository, self.reports.figures_for,
                           lambda ws, cid: self.channel_repository.get(ws, cid) is not None,
                           self.counters.timezones, self.clock, AdGoalFigures(self.ad_repository, post_channels))

    def _links_secret(self) -> bytes:
        if self.settings.links_secret:
            return self.settings.links_secret.encode()
        if self.settings.stage in ("prod", "production"):
            raise RuntimeError("HERALD_LINKS_SECRET must be set: click ids and visitor hashes are keyed by it")
        return f"herald-{self.settings.stage}-links-not-secret".encode()

    # -- ads ----------------------------------------------------------------------

    @cached_property
    def ad_repository(self) -> AdRepository:
        from chalicelib.ads.ad_repository import AdRepository

        return AdRepository()

    @cached_property
    def meta_ads(self) -> MetaAds:
        """The Marketing API on the Graph host the operator set (HERALD_META_GRAPH_URL), never a client's."""
        from chalicelib.networks.meta_ads import MetaAds

        return MetaAds(clock=self.clock, graph_url=self.settings.meta_graph_url)

    @cached_property
    def ad_campaigns(self) -> CampaignService:
        from chalicelib.ads.campaigns import CampaignService

        return CampaignService(self.ad_repository, self.channels, self.meta_ads, self.clock,
                               post_exists=lambda ws, post_id: self.post_repository.get(ws, post_id) is not None,
                               workspace_timezone=lambda ws: self.access.get_workspace(ws).timezone)

    @cached_property
    def ads_sync(self) -> AdsSync:
        from chalicelib.ads.ads_sync import AdsSync

        return AdsSync(self.ad_repository, self.channels, self.meta_ads, self.webhook_emitter.emit, self.clock)

    # -- giveaways ------------------------------------------------------------------

    @cached_property
    def giveaway_repository(self) -> GiveawayRepository:
        from chalicelib.giveaways.giveaway_repository import GiveawayRepository

        return GiveawayRepository()

    @cached_property
    def giveaways(self) -> GiveawayService:
        from chalicelib.giveaways.giveaways import GiveawayService

        return GiveawayService(self.giveaway_repository, self.posts, self.channels, self.inbox_repository,
                               self.secret_box, self.clock)


    # -- brand ------------------------------------------------------------------

    @cached_property
    def brand_repository(self) -> BrandRepository:
        from chalicelib.brand.brand_repository import DynamoBrandRepository

        return DynamoBrandRepository()

    @cached_property
    def brand(self) -> BrandService:
        from chalicelib.brand.service import BrandService

        return BrandService(self.brand_repository,
                            lambda ws, media_id: self.media_repository.get(ws, media_id) is not None,
                            self.outbound, self.clock)

    @cached_property
    def brand_consistency(self) -> BrandConsistency:
        from chalicelib.brand.consistency import BrandConsistency

        def load_logo(workspace_id: str, media_id: str) -> bytes:
            item = self.media.item_for(workspace_id, {"media_id": media_id})
            if item.load is None:
                raise ValueError(f"media {media_id} cannot be read")
            return item.load()

        return BrandConsistency(self.brand_repository, self.channel_repository, self.channels, self.adapter,
                                load_logo, lambda: self.outbound.session(), self.listening.language_of, self.clock)


_current: list[Container] = []


def container() -> Container:
    if not _current:
        _current.append(Container())
    return _current[0]


def use_container(new: Container) -> Container:
    _current[:] = [new]
    return new


def authenticate(deps: Container, headers: dict[str, str]) -> Principal:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip().startswith("hrv_"):  # a client reviewer's session
        return deps.review_links.authenticate(token.strip())
    return deps.people.authenticate(headers)


def record_write(deps: Container, write: WriteMade) -> None:
    deps.audit_log.record(deps, write)


provide_wiring(container, authenticate)
provide_audit(record_write)
