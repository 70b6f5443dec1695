"""Giveaways: `giveaways`, `workspace_id` / `item_key`.

- a giveaway: `giveaway#<giveaway id>` (its posts, rules, window, status, commitment; the seed sealed with
  KMS until the draw, then shown);
- its frozen entrant list: `entrant#<giveaway id>#<freeze id>#<position, 6 digits>`, in the canonical (sorted)
  order, written once at the freeze and never changed (a freeze that lost a race leaves its list unread)."""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.tables import table_meta


class GiveawayRecord(Model):
    Meta = table_meta("giveaways")
    workspace_id = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    giveaway_id = UnicodeAttribute()
    name = UnicodeAttribute()
    posts = UnicodeAttribute()  # JSON: [{post_id, channel_id, network, remote_id, remote_url}]
    rules = UnicodeAttribute()  # JSON: the entry rules as given
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    winners_count = NumberAttribute()
    alternates_count = NumberAttribute(default=0)
    status = UnicodeAttribute()  # open | frozen | drawn
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    frozen_at = UnicodeAttribute(null=True)
    freeze_id = UnicodeAttribute(null=True)  # the key prefix of the entrant list this freeze wrote
    entrant_count = NumberAttribute(null=True)
    entrants_sha256 = UnicodeAttribute(null=True)
    seed_sha256 = UnicodeAttribute(null=True)
    seed_sealed = BinaryAttribute(null=True, legacy_encoding=False)
    seed = UnicodeAttribute(null=True)  # only once drawn
    stats = UnicodeAttribute(null=True)  # JSON: what the freeze counted and left out
    drawn_at = UnicodeAttribute(null=True)
    draw = UnicodeAttribute(null=True)  # JSON: winners and alternates


class EntrantRecord(Model):
    Meta = table_meta("giveaways")
    workspace_id = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    entrant_id = UnicodeAttribute()
    handle = UnicodeAttribute(default="")
    display_name = UnicodeAttribute(default="")
    message_id = UnicodeAttribute(default="")
    channel_id = UnicodeAttribute(default="")
    commented_at = UnicodeAttribute()
