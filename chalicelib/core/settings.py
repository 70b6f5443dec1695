"""Deployment settings, read from the environment once.

Every resource name has one definition here: `resource_name(stage, logical)`.
`infra/` builds the CloudFormation template and the local stack from the same
function, so the code and the resources cannot drift apart.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

TABLES = ("workspaces", "api_keys", "channels", "posts", "media", "sandbox_posts", "metrics",
          "inbox", "webhook_events", "inbox_config",
          # OAuth connections in progress (chalicelib/accounts/connect.py), each gone ten minutes after it began.
          "connect_states",
          # Outbound webhooks (chalicelib/outbound_webhooks/): endpoints, and each message's delivery to each.
          "webhook_endpoints", "webhook_deliveries",
          # Every write made through the API, append-only (chalicelib/audit/).
          "audit_log",
          # CSV imports of posts and their progress (chalicelib/imports/).
          "post_imports",
          # RSS and Atom feeds that make posts, and each item taken once (chalicelib/feeds/).
          "feeds", "feed_items",
          # Queues, recurring series and evergreen recycling (chalicelib/planning/).
          "planning",
          # Approval (chalicelib/approval/): steps per workspace, comments on posts, reviewers' links and sessions.
          "approval",
          # People (chalicelib/people/): users, their memberships of workspaces and agencies, invitations,
          # password resets, agencies.
          "users", "memberships", "invitations", "password_resets", "agencies",
          # Short links, their visitors' daily markers and conversions (chalicelib/links/); goals (chalicelib/goals/).
          "links", "goals",
          # Ad campaigns and their daily results (chalicelib/ads/); giveaways, entries, draws (chalicelib/giveaways/).
          "ads", "giveaways",
          # Brand profiles and their consistency findings (chalicelib/brand/).
          "brand")
QUEUES = ("publish", "inbox_events", "webhook_deliveries", "tick",
          # One message per chunk of a CSV import (chalicelib/imports/import_jobs.py).
          "post_imports")
# HTTP connections each AWS client keeps: the publish worker handles a batch's 10 records at once and
# the tick reads its shards in parallel; botocore's default of 10 would open and drop connections.
MAX_POOL_CONNECTIONS = 32


def resource_name(stage: str, logical: str) -> str:
    return f"herald-{stage}-{logical.replace('_', '-')}"


def table_env_var(logical: str) -> str:
    return f"HERALD_TABLE_{logical.upper()}"


def queue_env_var(logical: str) -> str:
    return f"HERALD_QUEUE_{logical.upper()}"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    aws_endpoint_url: str | None
    kms_key_id: str
    media_bucket: str
    cors_origins: tuple[str, ...]
    public_base_url: str
    due_shards: int
    # Shards of the due index the tick reads at once.
    tick_threads: int
    max_body_bytes: int
    # Networks batch events (Meta sends up to 1,000 changes in one POST): webhooks take larger bodies.
    max_webhook_body_bytes: int
    # HERALD_ALLOW_PRIVATE_URLS=1: requests made on a client's say-so may reach loopback and private
    # addresses (plain http too), for tests and local peers such as a Bluesky PDS. Never deployed.
    allow_private_urls: bool = False
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    # Webhook app secrets: never in a repr, a log line or an answer.
    meta_app_secret: str = field(default="", repr=False)
    meta_verify_token: str = field(default="", repr=False)
    x_consumer_secret: str = field(default="", repr=False)
    linkedin_client_secret: str = field(default="", repr=False)
    tiktok_client_secret: str = field(default="", repr=False)
    # X's OAuth 2.0 app (confidential client): the client id and secret of the developer portal's "Keys and
    # tokens"; the authorization page users are sent to. The token endpoint is `{x_api_url}/2/oauth2/token`.
    x_client_id: str = ""
    x_client_secret: str = field(default="", repr=False)
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    # Where the networks' APIs answer: the operator's setting, never a client's (tests point them at a
    # local fake). Connecting a channel asks them who its credentials belong to.
    meta_graph_url: str = "https://graph.facebook.com/v25.0"
    x_api_url: str = "https://api.x.com"
    linkedin_api_url: str = "https://api.linkedin.com"
    # LinkedIn's OAuth 2.0 (3-legged): Herald's app id, where members authorize it, where codes become tokens.
    linkedin_client_id: str = ""
    linkedin_authorize_url: str = "https://www.linkedin.com/oauth/v2/authorization"
    linkedin_token_url: str = "https://www.linkedin.com/oauth/v2/accessToken"
    tiktok_api_url: str = "https://open.tiktokapis.com"
    # TikTok's Login Kit: the app's client key (its secret is tiktok_client_secret), where users authorize it,
    # and whether TikTok has audited the app (until then it may only post privately, SELF_ONLY).
    tiktok_client_key: str = ""
    tiktok_authorize_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    tiktok_app_audited: bool = False
    # Threads: the Graph host with its version; OAuth's token endpoints are on the same host without it.
    threads_api_url: str = "https://graph.threads.net/v1.0"
    threads_authorize_url: str = "https://threads.net/oauth/authorize"
    threads_app_id: str = ""
    threads_app_secret: str = field(default="", repr=False)
    # Facebook Login (Pages and their Instagram accounts): the app id (its secret is meta_app_secret), the
    # login dialog, and an optional Facebook Login for Business configuration that replaces the scopes.
    meta_app_id: str = ""
    meta_authorize_url: str = "https://www.facebook.com/v25.0/dialog/oauth"
    meta_login_config_id: str = ""
    # Pinterest (API v5): the API host with its version (tokens at `{pinterest_api_url}/oauth/token`), the
    # authorization page, and Herald's app (client id and secret, sent as HTTP Basic to the token endpoint).
    pinterest_api_url: str = "https://api.pinterest.com/v5"
    pinterest_authorize_url: str = "https://www.pinterest.com/oauth/"
    pinterest_client_id: str = ""
    pinterest_client_secret: str = field(default="", repr=False)
    # Reddit: the API host, the host of the authorization page and token endpoint, Herald's app, and the
    # descriptive User-Agent Reddit requires on every call: `<platform>:<app id>:<version> (by /u/<username>)`.
    reddit_api_url: str = "https://oauth.reddit.com"
    reddit_auth_url: str = "https://www.reddit.com"
    reddit_client_id: str = ""
    reddit_client_secret: str = field(default="", repr=False)
    reddit_user_agent: str = ""
    # Telegram's Bot API host (methods are {url}/bot<token>/<method>); Discord's API, which a channel's webhook
    # URL must be on (https://discord.com/api/webhooks/<id>/<token>) and where its requests go.
    telegram_api_url: str = "https://api.telegram.org"
    discord_api_url: str = "https://discord.com/api"
    # Google (YouTube and Google Business Profile share one OAuth client of Herald's Google Cloud project):
    # the consent page, the token endpoint, and each API's host.
    google_client_id: str = ""
    google_client_secret: str = field(default="", repr=False)
    google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    youtube_upload_url: str = "https://www.googleapis.com/upload/youtube/v3"
    google_business_api_url: str = "https://mybusiness.googleapis.com/v4"
    google_account_management_url: str = "https://mybusinessaccountmanagement.googleapis.com/v1"
    google_business_information_url: str = "https://mybusinessbusinessinformation.googleapis.com/v1"
    # Approval: how long a client reviewer's emailed link may be opened (once), and how long the reviewer
    # credential it is exchanged for lasts.
    review_link_hours: int = 72
    review_session_minutes: int = 60
    # Where the web console lives (HERALD_CONSOLE_URL): the emailed review link opens its `#/review/<token>` page,
    # a member's approval or mention email its `#/calendar/post/<id>`. The local stack serves it at the API's own
    # address (also the default when unset); deployed, the template sets the console's CloudFront address.
    console_url: str = ""
    # People (chalicelib/people/): the Cognito user pool and its app client (the template's UserPool and
    # UserPoolClient; the local stack makes them in moto at start), and the verified SES sender of Herald's mail.
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    mail_from: str = "herald@herald.invalid"
    # Short links (chalicelib/links/): where `/l/{code}` is served (the API's own host unless a short domain
    # points at it), and the secret click ids are signed with and each day's visitor salt is derived from.
    links_base_url: str = ""
    links_secret: str = field(default="", repr=False)

    def table(self, logical: str) -> str:
        return self.tables[logical]

    def queue(self, logical: str) -> str:
        return self.queues[logical]

    def stream_arn(self, logical: str) -> str:
        """The table's stream as a stream consumer's decorator names it. The template replaces it with the
        table's StreamArn and the local stack finds the stream by the table's name, which it carries."""
        return os.environ.get(f"HERALD_STREAM_{logical.upper()}") or (
            f"arn:aws:dynamodb:{self.region}:000000000000:table/{self.table(logical)}/stream/latest")


def _cors_origins(stage: str) -> tuple[str, ...]:
    raw = os.environ.get("HERALD_CORS_ORIGINS")
    if raw is None:
        # Only the local stage answers any origin by default.
        return ("*",) if stage == "local" else ()
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())


def load_settings() -> Settings:
    stage = os.environ.get("HERALD_STAGE", "local")
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        aws_endpoint_url=os.environ.get("HERALD_AWS_ENDPOINT_URL") or None,
        kms_key_id=os.environ.get("HERALD_KMS_KEY_ID", f"alias/herald-{stage}"),
        media_bucket=os.environ.get("HERALD_MEDIA_BUCKET", resource_name(stage, "media")),
        cors_origins=_cors_origins(stage),
        public_base_url=os.environ.get("HERALD_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        due_shards=int(os.environ.get("HERALD_DUE_SHARDS", "8")),
        tick_threads=int(os.environ.get("HERALD_TICK_THREADS", "8")),
        max_body_bytes=int(os.environ.get("HERALD_MAX_BODY_BYTES", str(256 * 1024))),
        max_webhook_body_bytes=int(os.environ.get("HERALD_MAX_WEBHOOK_BODY_BYTES", str(2 * 1024 * 1024))),
        allow_private_urls=os.environ.get("HERALD_ALLOW_PRIVATE_URLS", "") == "1",
        tables={t: os.environ.get(table_env_var(t), resource_name(stage, t)) for t in TABLES},
        queues={q: os.environ.get(queue_env_var(q), resource_name(stage, q)) for q in QUEUES},
        meta_app_secret=os.environ.get("HERALD_META_APP_SECRET", ""),
        meta_verify_token=os.environ.get("HERALD_META_VERIFY_TOKEN", ""),
        x_consumer_secret=os.environ.get("HERALD_X_CONSUMER_SECRET", ""),
        linkedin_client_secret=os.environ.get("HERALD_LINKEDIN_CLIENT_SECRET", ""),
        linkedin_client_id=os.environ.get("HERALD_LINKEDIN_CLIENT_ID", ""),
        tiktok_client_secret=os.environ.get("HERALD_TIKTOK_CLIENT_SECRET", ""),
        tiktok_client_key=os.environ.get("HERALD_TIKTOK_CLIENT_KEY", ""),
        tiktok_app_audited=os.environ.get("HERALD_TIKTOK_APP_AUDITED", "") == "1",
        threads_app_id=os.environ.get("HERALD_THREADS_APP_ID", ""),
        threads_app_secret=os.environ.get("HERALD_THREADS_APP_SECRET", ""),
        meta_app_id=os.environ.get("HERALD_META_APP_ID", ""),
        meta_authorize_url=(os.environ.get("HERALD_META_AUTHORIZE_URL") or
                            "https://www.facebook.com/v25.0/dialog/oauth").rstrip("/"),
        meta_login_config_id=os.environ.get("HERALD_META_LOGIN_CONFIG_ID", ""),
        pinterest_client_id=os.environ.get("HERALD_PINTEREST_CLIENT_ID", ""),
        pinterest_client_secret=os.environ.get("HERALD_PINTEREST_CLIENT_SECRET", ""),
        reddit_client_id=os.environ.get("HERALD_REDDIT_CLIENT_ID", ""),
        reddit_client_secret=os.environ.get("HERALD_REDDIT_CLIENT_SECRET", ""),
        reddit_user_agent=os.environ.get("HERALD_REDDIT_USER_AGENT", ""),
        google_client_id=os.environ.get("HERALD_GOOGLE_CLIENT_ID", ""),
        google_client_secret=os.environ.get("HERALD_GOOGLE_CLIENT_SECRET", ""),
        x_client_id=os.environ.get("HERALD_X_CLIENT_ID", ""),
        x_client_secret=os.environ.get("HERALD_X_CLIENT_SECRET", ""),
        x_authorize_url=os.environ.get("HERALD_X_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize").rstrip("/"),
        review_link_hours=int(os.environ.get("HERALD_REVIEW_LINK_HOURS", "72")),
        review_session_minutes=int(os.environ.get("HERALD_REVIEW_SESSION_MINUTES", "60")),
        console_url=os.environ.get("HERALD_CONSOLE_URL", "").rstrip("/"),
        links_base_url=os.environ.get("HERALD_LINKS_BASE_URL", "").rstrip("/"),
        links_secret=os.environ.get("HERALD_LINKS_SECRET", ""),
        **_network_api_urls(),
        **_people_settings(),
    )


def _people_settings() -> dict[str, str]:
    return {"cognito_user_pool_id": os.environ.get("HERALD_COGNITO_USER_POOL_ID", ""),
            "cognito_client_id": os.environ.get("HERALD_COGNITO_CLIENT_ID", ""),
            "mail_from": os.environ.get("HERALD_MAIL_FROM", "") or "herald@herald.invalid"}


NETWORK_API_URLS = {"meta_graph_url": "HERALD_META_GRAPH_URL", "x_api_url": "HERALD_X_API_URL",
                    "linkedin_api_url": "HERALD_LINKEDIN_API_URL", "tiktok_api_url": "HERALD_TIKTOK_API_URL",
                    "threads_api_url": "HERALD_THREADS_API_URL",
                    "threads_authorize_url": "HERALD_THREADS_AUTHORIZE_URL",
                    "linkedin_authorize_url": "HERALD_LINKEDIN_AUTHORIZE_URL",
                    "linkedin_token_url": "HERALD_LINKEDIN_TOKEN_URL",
                    "pinterest_api_url": "HERALD_PINTEREST_API_URL",
                    "pinterest_authorize_url": "HERALD_PINTEREST_AUTHORIZE_URL",
                    "reddit_api_url": "HERALD_REDDIT_API_URL", "reddit_auth_url": "HERALD_REDDIT_AUTH_URL",
                    "tiktok_authorize_url": "HERALD_TIKTOK_AUTHORIZE_URL",
                    "telegram_api_url": "HERALD_TELEGRAM_API_URL", "discord_api_url": "HERALD_DISCORD_API_URL",
                    "google_authorize_url": "HERALD_GOOGLE_AUTHORIZE_URL",
                    "google_token_url": "HERALD_GOOGLE_TOKEN_URL",
                    "youtube_api_url": "HERALD_YOUTUBE_API_URL",
                    "youtube_upload_url": "HERALD_YOUTUBE_UPLOAD_URL",
                    "google_business_api_url": "HERALD_GOOGLE_BUSINESS_API_URL",
                    "google_account_management_url": "HERALD_GOOGLE_ACCOUNT_MANAGEMENT_URL",
                    "google_business_information_url": "HERALD_GOOGLE_BUSINESS_INFORMATION_URL"}


def _network_api_urls() -> dict[str, str]:
    return {name: os.environ[variable].rstrip("/") for name, variable in NETWORK_API_URLS.items()
            if os.environ.get(variable)}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
