"""Who is not a person: crawlers and the networks' link-preview fetchers, which open every link that is
posted. A click by one of them is redirected like any other and never counted."""
from __future__ import annotations

# Lower-case parts of User-Agent strings. The networks' preview bots: Facebook and Instagram
# (facebookexternalhit, Facebot), X (Twitterbot), LinkedIn (LinkedInBot), Slack (Slackbot, Slack-ImgProxy),
# Telegram (TelegramBot), Discord (Discordbot), WhatsApp, Pinterest, Reddit (redditbot), Mastodon servers
# (their fetcher says "Mastodon/"), Bluesky's card service (Cardyb), Skype, iMessage's preview (the
# facebookexternalhit/Twitterbot pair it sends). Search engines and the generic words close the list.
BOT_MARKERS = (
    "facebookexternalhit", "facebot", "meta-externalagent", "twitterbot", "linkedinbot", "slackbot",
    "slack-imgproxy", "telegrambot", "discordbot", "whatsapp", "pinterest", "redditbot", "mastodon/",
    "cardyb", "bluesky", "skypeuripreview", "embedly", "iframely", "vkshare", "tumblr", "snapchat",
    "bingbot", "googlebot", "google-inspectiontool", "adsbot-google", "mediapartners-google", "applebot",
    "yandex", "baiduspider", "duckduckbot", "petalbot", "ahrefsbot", "semrushbot", "gptbot", "claudebot",
    "ccbot", "bytespider", "headlesschrome", "lighthouse", "python-requests", "python-urllib", "curl/",
    "wget/", "go-http-client", "okhttp", "java/", "libwww", "httpclient", "node-fetch", "axios/",
    "bot", "crawler", "spider", "preview", "monitor", "scanner",
)


def is_bot(user_agent: str | None) -> bool:
    """No User-Agent at all is not a browser either."""
    agent = (user_agent or "").strip().lower()
    return not agent or any(marker in agent for marker in BOT_MARKERS)
