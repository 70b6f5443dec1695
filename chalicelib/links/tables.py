"""The `links` table, one hash key `link_key`, three kinds of items (docs/data-model.md):

- `l#<code>`: a short link (its workspace, post, channel, network and target); read by key on every click.
- `v#<hash>`: a visitor seen on one link and local day; `hash` is an HMAC of (code, ip, user agent) under that
  day's salt, which is derived from a secret and the day and never stored. Gone after the day (TTL).
- `c#<workspace>#<conversion id>`: a conversion once recorded (a repeated `id` is not counted again).
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.tables import table_meta


class LinkRecord(Model):
    Meta = table_meta("links")
    link_key = UnicodeAttribute(hash_key=True)
    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    channel_id = UnicodeAttribute()
    network = UnicodeAttribute()
    target = UnicodeAttribute()
    campaign = UnicodeAttribute()
    # When the post is due: a conversion reported with the code alone (no click id) counts for the post from
    # the link's creation until the attribution window after this.
    starts_at = UnicodeAttribute()
    created_at = UnicodeAttribute()


class VisitorRecord(Model):
    Meta = table_meta("links")
    link_key = UnicodeAttribute(hash_key=True)
    expires_at_epoch = TTLAttribute()


class ConversionRecord(Model):
    Meta = table_meta("links")
    link_key = UnicodeAttribute(hash_key=True)
    workspace_id = UnicodeAttribute()
    conversion_id = UnicodeAttribute()
    code = UnicodeAttribute(null=True)
    post_id = UnicodeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)
    attributed = UnicodeAttribute()  # "yes" | "no"
    value = NumberAttribute()
    currency = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    day = UnicodeAttribute()
    recorded_at = UnicodeAttribute()
