"""The audit log: `audit_log`, `workspace_id` / `entry_key` (`<at>#<audit id>`, time-ordered), with
`by_actor` (`actor_key` = `<ws>#<actor>`) and `by_object` (`object_key` = `<ws>#<object id>`) on the same sort
key. Append-only: the application may only put new entries (infra/access.py gives no Update or Delete), and
each put is conditioned on the entry not existing. Entries expire with the workspace's retention (TTL)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.tables import index_meta, table_meta


class ByActor(GlobalSecondaryIndex["AuditRecord"]):
    Meta = index_meta("by_actor")
    actor_key = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)


class ByObject(GlobalSecondaryIndex["AuditRecord"]):
    Meta = index_meta("by_object")
    object_key = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)


class AuditRecord(Model):
    Meta = table_meta("audit_log")
    workspace_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    actor_key = UnicodeAttribute()
    object_key = UnicodeAttribute(null=True)
    actor = UnicodeAttribute()
    actor_role = UnicodeAttribute()
    action = UnicodeAttribute()  # "PATCH /posts/{post_id}"
    object_type = UnicodeAttribute(default="")
    object_id = UnicodeAttribute(null=True)
    status = NumberAttribute()
    source_ip = UnicodeAttribute(default="")
    user_agent = UnicodeAttribute(default="")
    changes = UnicodeAttribute(default="{}")  # JSON, secrets redacted
    at = UnicodeAttribute()
    expires_at_epoch = TTLAttribute(null=True)
    by_actor = ByActor()
    by_object = ByObject()
