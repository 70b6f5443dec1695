"""Ad campaigns and their daily results: `ads`, `workspace_id` / `item_key`.

- a campaign: `campaign#<campaign id>`;
- one day's results of a campaign: `result#<campaign id>#<YYYY-MM-DD>` (a day is written whole, so entering
  or reading it again replaces it: idempotent per day).

`live` (sparse): `live_shard` = `live` on every campaign whose flight has not ended more than a few days ago,
`campaign_ref` = `<workspace id>#<campaign id>`: the daily ads job's way to the campaigns it reads and paces,
without a Scan. A campaign past its flight drops out of it (the attribute is removed)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.core.tables import string_list, table_meta


class LiveCampaigns(GlobalSecondaryIndex["CampaignRecord"]):
    class Meta:
        index_name = "live"
        projection = KeysOnlyProjection()

    live_shard = UnicodeAttribute(hash_key=True)
    campaign_ref = UnicodeAttribute(range_key=True)


class CampaignRecord(Model):
    Meta = table_meta("ads")
    workspace_id = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    source = UnicodeAttribute()  # meta | manual
    network = UnicodeAttribute(default="")  # for a manual campaign: where it runs (tiktok, linkedin...)
    objective = UnicodeAttribute(default="")
    audience = UnicodeAttribute(default="")
    currency = UnicodeAttribute()
    total_budget = UnicodeAttribute()  # decimal text, two places
    daily_budget = UnicodeAttribute(null=True)
    start_date = UnicodeAttribute()
    end_date = UnicodeAttribute()
    timezone = UnicodeAttribute(default="UTC")
    post_ids = string_list(default=list)
    channel_id = UnicodeAttribute(null=True)
    ad_account_id = UnicodeAttribute(null=True)
    ad_account_name = UnicodeAttribute(null=True)
    meta_campaign_id = UnicodeAttribute(null=True)
    conversion_actions = string_list(default=list)
    status = UnicodeAttribute(default="active")
    synced_at = UnicodeAttribute(null=True)
    sync_problem = UnicodeAttribute(null=True)
    last_alert_day = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    live_shard = UnicodeAttribute(null=True)
    campaign_ref = UnicodeAttribute(null=True)
    live = LiveCampaigns()


class ResultRecord(Model):
    Meta = table_meta("ads")
    workspace_id = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    day = UnicodeAttribute()
    impressions = NumberAttribute(default=0)
    reach = NumberAttribute(null=True)
    clicks = NumberAttribute(default=0)
    spend = UnicodeAttribute()  # decimal text
    conversions = NumberAttribute(default=0)
    actions = UnicodeAttribute(default="{}")  # JSON: Meta's action_type -> count
    source = UnicodeAttribute()  # meta | manual | csv
    recorded_at = UnicodeAttribute()
