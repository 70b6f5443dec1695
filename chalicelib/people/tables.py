"""The people tables. Keys and indexes as in infra/resources.py (docs/data-model.md says why)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.tables import index_meta, table_meta


class UsersByEmail(GlobalSecondaryIndex["UserRecord"]):
    Meta = index_meta("by_email")
    email = UnicodeAttribute(hash_key=True)


class UserRecord(Model):
    """A person. `user_id` is also their Cognito username; the email (lower case) is how they sign in."""

    Meta = table_meta("users")
    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    created_at = UnicodeAttribute()
    # Tokens issued at or before this epoch second are refused (sign-out, password reset).
    tokens_valid_after = NumberAttribute(default=0)
    by_email = UsersByEmail()


class MembersOfScope(GlobalSecondaryIndex["MembershipRecord"]):
    Meta = index_meta("by_scope")
    scope_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class MembershipRecord(Model):
    """A person's role in one workspace (`ws_...`) or one agency (`ag_...`)."""

    Meta = table_meta("memberships")
    user_id = UnicodeAttribute(hash_key=True)
    scope_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # workspace | agency
    role = UnicodeAttribute()
    email = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_scope = MembersOfScope()


class InvitationsOfScope(GlobalSecondaryIndex["InvitationRecord"]):
    Meta = index_meta("by_scope")
    scope_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class InvitationRecord(Model):
    """An invitation, found by its id (the token is `inv_<id>_<secret>`; only a SHA-256 of the secret is kept)."""

    Meta = table_meta("invitations")
    invitation_id = UnicodeAttribute(hash_key=True)
    scope_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | accepted | revoked
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    expires_at_epoch = TTLAttribute()
    by_scope = InvitationsOfScope()


class PasswordResetRecord(Model):
    """A password reset in progress (`rst_<id>_<secret>`, the secret hashed), single use, an hour long."""

    Meta = table_meta("password_resets")
    reset_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    used_at = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute()
    expires_at_epoch = TTLAttribute()


class AgencyRecord(Model):
    Meta = table_meta("agencies")
    agency_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
