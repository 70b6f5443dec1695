"""Users, memberships, invitations, password resets and agencies: the only code that knows their tables."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from chalicelib.people.tables import (
    AgencyRecord,
    InvitationRecord,
    MembershipRecord,
    PasswordResetRecord,
    UserRecord,
)


@dataclass
class UserRow:
    user_id: str
    email: str
    created_at: str
    tokens_valid_after: int = 0


@dataclass
class MembershipRow:
    user_id: str
    scope_id: str
    kind: str  # workspace | agency
    role: str
    email: str
    created_at: str


@dataclass
class InvitationRow:
    invitation_id: str
    scope_id: str
    kind: str
    email: str
    role: str
    secret_hash: str
    invited_by: str
    status: str
    created_at: str
    expires_at: str


@dataclass
class ResetRow:
    reset_id: str
    user_id: str
    secret_hash: str
    expires_at: str
    used_at: str | None = None


@dataclass
class AgencyRow:
    agency_id: str
    name: str
    created_at: str


class UserRepository:
    def create(self, row: UserRow) -> bool:
        try:
            UserRecord(row.user_id, email=row.email, created_at=row.created_at,
                       tokens_valid_after=row.tokens_valid_after).save(condition=UserRecord.user_id.does_not_exist())
        except PutError:
            return False
        return True

    def get(self, user_id: str) -> UserRow | None:
        try:
            r = UserRecord.get(user_id)
        except DoesNotExist:
            return None
        return UserRow(r.user_id, r.email, r.created_at, int(r.tokens_valid_after or 0))

    def by_email(self, email: str) -> UserRow | None:
        for r in UserRecord.by_email.query(email, limit=1):
            return UserRow(r.user_id, r.email, r.created_at, int(r.tokens_valid_after or 0))
        return None

    def refuse_tokens_until(self, user_id: str, epoch_second: int) -> None:
        UserRecord(user_id).update(actions=[UserRecord.tokens_valid_after.set(epoch_second)],
                                   condition=UserRecord.user_id.exists())


def _membership(r: MembershipRecord) -> MembershipRow:
    return MembershipRow(r.user_id, r.scope_id, r.kind, r.role, r.email, r.created_at)


class MembershipRepository:
    def put(self, row: MembershipRow) -> None:
        MembershipRecord(row.user_id, row.scope_id, kind=row.kind, role=row.role, email=row.email,
                         created_at=row.created_at).save()

    def get(self, user_id: str, scope_id: str) -> MembershipRow | None:
        try:
            return _membership(MembershipRecord.get(user_id, scope_id))
        except DoesNotExist:
            return None

    def of_user(self, user_id: str) -> list[MembershipRow]:
        return [_membership(r) for r in MembershipRecord.query(user_id)]

    def of_scope(self, scope_id: str) -> list[MembershipRow]:
        return [_membership(r) for r in MembershipRecord.by_scope.query(scope_id)]

    def set_role(self, user_id: str, scope_id: str, role: str) -> bool:
        try:
            MembershipRecord(user_id, scope_id).update(actions=[MembershipRecord.role.set(role)],
                                                       condition=MembershipRecord.user_id.exists())
        except UpdateError:
            return False
        return True

    def delete(self, user_id: str, scope_id: str) -> bool:
        try:
            MembershipRecord(user_id, scope_id).delete(condition=MembershipRecord.user_id.exists())
        except DeleteError:
            return False
        return True


def _invitation(r: InvitationRecord) -> InvitationRow:
    return InvitationRow(r.invitation_id, r.scope_id, r.kind, r.email, r.role, r.secret_hash, r.invited_by,
                         r.status, r.created_at, r.expires_at)


class InvitationRepository:
    def create(self, row: InvitationRow, expires: datetime) -> None:
        InvitationRecord(row.invitation_id, scope_id=row.scope_id, kind=row.kind, email=row.email, role=row.role,
                         secret_hash=row.secret_hash, invited_by=row.invited_by, status=row.status,
                         created_at=row.created_at, expires_at=row.expires_at, expires_at_epoch=expires,
                         ).save(condition=InvitationRecord.invitation_id.does_not_exist())

    def get(self, invitation_id: str) -> InvitationRow | None:
        try:
            return _invitation(InvitationRecord.get(invitation_id))
        except DoesNotExist:
            return None

    def of_scope(self, scope_id: str) -> list[InvitationRow]:
        return [_invitation(r) for r in InvitationRecord.by_scope.query(scope_id)]

    def move(self, invitation_id: str, scope_id: str, from_status: str, to_status: str) -> bool:
        """One conditional write: an invitation is accepted (or revoked) once."""
        try:
            InvitationRecord(invitation_id).update(
                actions=[InvitationRecord.status.set(to_status)],
                condition=(InvitationRecord.status == from_status) & (InvitationRecord.scope_id == scope_id))
        except UpdateError:
            return False
        return True


class PasswordResetRepository:
    def create(self, row: ResetRow, expires: datetime) -> None:
        PasswordResetRecord(row.reset_id, user_id=row.user_id, secret_hash=row.secret_hash,
                            expires_at=row.expires_at, expires_at_epoch=expires,
                            ).save(condition=PasswordResetRecord.reset_id.does_not_exist())

    def get(self, reset_id: str) -> ResetRow | None:
        try:
            r = PasswordResetRecord.get(reset_id)
        except DoesNotExist:
            return None
        return ResetRow(r.reset_id, r.user_id, r.secret_hash, r.expires_at, r.used_at)

    def use(self, reset_id: str, used_at: str) -> bool:
        try:
            PasswordResetRecord(reset_id).update(actions=[PasswordResetRecord.used_at.set(used_at)],
                                                 condition=PasswordResetRecord.used_at.does_not_exist()
                                                 & PasswordResetRecord.reset_id.exists())
        except UpdateError:
            return False
        return True


class AgencyRepository:
    def create(self, row: AgencyRow) -> None:
        AgencyRecord(row.agency_id, name=row.name, created_at=row.created_at).save(
            condition=AgencyRecord.agency_id.does_not_exist())

    def get(self, agency_id: str) -> AgencyRow | None:
        try:
            r = AgencyRecord.get(agency_id)
        except DoesNotExist:
            return None
        return AgencyRow(r.agency_id, r.name, r.created_at)
