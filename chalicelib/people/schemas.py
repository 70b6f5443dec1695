"""Request and answer shapes of the people, keys and agency routes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chalicelib.accounts.schemas import WorkspaceName
from chalicelib.core.fields import Month, SingleLine, TimeZoneName
from chalicelib.core.schemas import RequestModel

Email = Annotated[str, SingleLine(254), Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                              description="An email address", examples=["ana@agency.example"])]
Password = Annotated[str, Field(min_length=8, max_length=256, description="Never stored by Herald (Cognito keeps it)")]
Token = Annotated[str, SingleLine(200)]
MemberRole = Literal["owner", "admin", "editor", "viewer", "client"]
AgencyRole = Literal["owner", "admin", "editor", "viewer"]
KeyRole = Literal["owner", "admin", "editor", "viewer"]
AgencyName = Annotated[str, SingleLine(100), Field(min_length=1)]


class SignIn(RequestModel):
    email: Email
    password: Password


class Refresh(RequestModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class SignedIn(BaseModel):
    access_token: str = Field(description="Send as 'Authorization: Bearer <access_token>'")
    id_token: str
    refresh_token: str | None
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"


class PasswordResetAsk(RequestModel):
    email: Email


class PasswordResetConfirm(RequestModel):
    token: Token
    password: Password


class Accepted(BaseModel):
    user_id: str
    email: str
    scope_id: str
    kind: str
    role: str


class InvitationAccept(RequestModel):
    token: Token
    password: Password | None = None


class InvitationCreate(RequestModel):
    email: Email
    role: MemberRole


class AgencyInvitationCreate(RequestModel):
    email: Email
    role: AgencyRole


class InvitationOut(BaseModel):
    id: str
    email: str
    role: str
    kind: str
    scope_id: str
    status: str
    invited_by: str
    created_at: datetime
    expires_at: datetime


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None = None


class MemberOut(BaseModel):
    user_id: str
    email: str
    role: str
    through: Literal["workspace", "agency"]
    created_at: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None = None


class MemberPatch(RequestModel):
    role: MemberRole


class ApiKeyCreate(RequestModel):
    role: KeyRole
    name: Annotated[str, SingleLine(100)] | None = None


class ApiKeyOut(BaseModel):
    id: str
    role: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="The secret: shown in this answer only, never again")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None


class MeWorkspace(BaseModel):
    id: str
    name: str
    role: str
    agency_id: str | None = None
    through: Literal["workspace", "agency", "api_key"]


class MeAgency(BaseModel):
    id: str
    name: str
    role: str


class Me(BaseModel):
    user: dict[str, Any] | None = Field(description="{id, email}; null for an API key")
    auth: Literal["user", "api_key"]
    workspaces: list[MeWorkspace]
    agencies: list[MeAgency]


class AgencyCreate(RequestModel):
    name: AgencyName


class AgencyOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    role: str | None = None


class ClientWorkspaceCreate(RequestModel):
    name: WorkspaceName
    timezone: TimeZoneName = "UTC"


class ClientWorkspace(BaseModel):
    id: str
    name: str
    timezone: str
    agency_id: str | None
    created_at: datetime


class ClientWorkspacePage(BaseModel):
    items: list[ClientWorkspace]
    next_cursor: str | None = None


class AgencyMonthQuery(RequestModel):
    month: Month


class AgencyCalendar(BaseModel):
    month: str
    workspaces: list[dict[str, Any]] = Field(description="Per client: {id, name, timezone, days[]} as GET /calendar")


class AgencyItems(BaseModel):
    items: list[dict[str, Any]] = Field(description="Each names its client: workspace {id, name}")


class AgencyReport(BaseModel):
    month: str
    clients: list[dict[str, Any]] = Field(description="Per client: workspace, complete, figures (as the "
                                                      "monthly report's)")


class DevMail(BaseModel):
    items: list[dict[str, Any]]
