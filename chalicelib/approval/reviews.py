"""Client reviewers' magic links and the short-lived credential each is exchanged for.

A link (`{public_base_url}/review/<token>`) is emailed to one reviewer for one post: 256 random bits, only
their SHA-256 stored, usable once before it expires. `GET /review/<token>` marks it used (a conditional
write: a replay finds it used) and answers a reviewer credential, `hrv_<secret>` (also stored hashed), which
authenticates as a Principal with role `client`, the reviewer's email and the scope `post:<post_id>`. The
role ranks below every member, so every other route refuses it (403), and the approval routes, the only
ones open to `client`, reach that post only (404 elsewhere). A signed-in client user (later) is the same
Principal without a scope: it reaches the posts whose approval names its email.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.approval.approval_repository import ApprovalStore, ReviewGrant
from chalicelib.core.clock import Clock
from chalicelib.core.errors import BadRequest, NotFound, Unauthorized
from chalicelib.core.principal import Principal

CREDENTIAL_PREFIX = "hrv_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def reviewer_principal(grant: ReviewGrant) -> Principal:
    return Principal(grant.workspace_id, "client", f"reviewer:{grant.email}", email=grant.email,
                     scope=f"post:{grant.post_id}")


@dataclass(frozen=True)
class ReviewSession:
    credential: str
    expires_at: datetime
    grant: ReviewGrant


class ReviewLinks:
    def __init__(self, store: ApprovalStore, clock: Clock, link_lifetime: timedelta,
                 session_lifetime: timedelta) -> None:
        self.store = store
        self.clock = clock
        self.link_lifetime = link_lifetime
        self.session_lifetime = session_lifetime

    def issue(self, workspace_id: str, post_id: str, email: str) -> str:
        """A new link's token (shown once, in the email)."""
        token = secrets.token_urlsafe(32)
        self.store.put_link(_hash(token), ReviewGrant(workspace_id, post_id, email.lower(),
                                                      self.clock.now() + self.link_lifetime))
        return token

    def exchange(self, token: str) -> ReviewSession:
        """A used link is a 400 (`review_link_used`), an expired one too (`review_link_expired`), an unknown
        one a 404, as the OAuth callback answers a used or unknown state."""
        now = self.clock.now()
        plausible = 20 <= len(token) <= 100
        grant = self.store.use_link(_hash(token), now) if plausible else None
        if grant is None:
            self._refuse(self.store.link(_hash(token)) if plausible else None)
        assert grant is not None
        credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
        session = ReviewGrant(grant.workspace_id, grant.post_id, grant.email, now + self.session_lifetime)
        self.store.put_session(_hash(credential), session)
        return ReviewSession(credential, session.expires_at, session)

    @staticmethod
    def _refuse(found: ReviewGrant | None) -> None:
        if found is None:
            raise NotFound("This review link is not valid. Ask the agency for a new one.",
                           code="review_link_not_found")
        if found.used_at is not None:
            raise BadRequest("This review link was already used; each link opens once. Ask the agency for a new "
                             "one.", code="review_link_used")
        raise BadRequest("This review link has expired. Ask the agency for a new one.", code="review_link_expired")

    def authenticate(self, credential: str) -> Principal:
        # Found by the hash of a 256-bit secret: the lookup itself is the comparison.
        grant = self.store.session(_hash(credential))
        if grant is None or grant.expires_at <= self.clock.now():
            raise Unauthorized("This reviewer session is not valid or has expired; open your review link "
                               "again, or ask for a new one.")
        return reviewer_principal(grant)
