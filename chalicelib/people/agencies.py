"""Agencies: one agency owns many client workspaces. Agency members reach every client workspace with their
agency role; a client workspace's own members reach only it.

Agency-wide reads fan out one query per client workspace, bounded by the agency's list of clients (one Query
on the workspaces table's `by_agency` index): the calendar, the open conversations, the posts at risk or
failed and the month's figures. No Scan: each client's read is the same keyed query its own route makes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from chalicelib.accounts.workspace_repository import WorkspaceRow
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import BadRequest, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.principal import ROLE_RANK, Principal
from chalicelib.people.people import AGENCY_HEADER, PeopleService
from chalicelib.people.people_repository import AgencyRepository, AgencyRow, UserRow

# An agency's clients read in one agency-wide answer; past this the answer says it was cut.
MAX_CLIENTS = 200
ITEMS_PER_CLIENT = 20


@dataclass(frozen=True)
class AgencyCaller:
    """A person acting in one agency, with their agency role (a Principal-like for agency routes)."""

    user: UserRow
    agency: AgencyRow
    role: str

    @property
    def actor(self) -> str:
        return f"user:{self.user.user_id}"

    def principal(self) -> Principal:
        return Principal(self.agency.agency_id, self.role, "", user_id=self.user.user_id, email=self.user.email,
                         auth="user", agency_id=self.agency.agency_id)


class ClientReads(Protocol):
    """What the agency reads of each client, each a keyed query its own route makes."""

    def calendar(self, workspace: WorkspaceRow, month: str) -> list[tuple[date, list[Any]]]: ...

    def open_conversations(self, workspace_id: str, limit: int) -> list[Any]: ...

    def at_risk(self, workspace_id: str, limit: int) -> list[tuple[Any, list[Any]]]: ...

    def failed(self, workspace_id: str, limit: int) -> list[tuple[Any, list[Any]]]: ...

    def month_report(self, workspace_id: str, month: str) -> dict[str, Any]: ...


class AgencyService:
    def __init__(self, agencies: AgencyRepository, people: PeopleService,
                 clients_of: Callable[[str], list[WorkspaceRow]],
                 create_workspace: Callable[[str, str, str], WorkspaceRow], reads: ClientReads,
                 clock: Clock) -> None:
        self.agencies = agencies
        self.people = people
        self.clients_of = clients_of
        self._create_workspace = create_workspace
        self.reads = reads
        self.clock = clock

    def create(self, user: UserRow, name: str) -> AgencyRow:
        row = AgencyRow(new_id("ag", self.clock.now()), name, to_rfc3339(self.clock.now()))
        self.agencies.create(row)
        self.people.add_member(user, row.agency_id, "agency", "owner")
        return row

    def caller(self, headers: dict[str, str], role: str = "viewer") -> AgencyCaller:
        from chalicelib.core.errors import Forbidden

        user = self.people.signed_in(self.people.bearer(headers)).user
        agency_id = headers.get(AGENCY_HEADER, "").strip() or self._only_agency(user)
        membership = self.people.memberships.get(user.user_id, agency_id)
        agency = self.agencies.get(agency_id) if membership is not None else None
        if membership is None or agency is None:
            raise NotFound(f"No agency {agency_id} that you can open.")
        if ROLE_RANK[membership.role] < ROLE_RANK[role]:
            raise Forbidden(f"This needs the {role} role or higher in the agency; yours is {membership.role}.")
        return AgencyCaller(user, agency, membership.role)

    def _only_agency(self, user: UserRow) -> str:
        agencies = [m.scope_id for m in self.people.memberships.of_user(user.user_id) if m.kind == "agency"]
        if len(agencies) != 1:
            raise BadRequest("Say which agency with the X-Herald-Agency header (GET /me lists yours).",
                             code="agency_required")
        return agencies[0]

    def clients(self, agency_id: str) -> list[WorkspaceRow]:
        return self.clients_of(agency_id)[:MAX_CLIENTS]

    def create_client(self, caller: AgencyCaller, name: str, timezone: str) -> WorkspaceRow:
        if not name.strip():
            raise ValidationFailed.field("name", "must not be empty")
        return self._create_workspace(name, timezone, caller.agency.agency_id)

    # -- agency-wide reads ---------------------------------------------------------------

    def calendar(self, agency_id: str, month: str) -> list[tuple[WorkspaceRow, list[tuple[date, list[Any]]]]]:
        return [(ws, self.reads.calendar(ws, month)) for ws in self.clients(agency_id)]

    def inbox(self, agency_id: str) -> list[tuple[WorkspaceRow, Any]]:
        found = [(ws, conversation) for ws in self.clients(agency_id)
                 for conversation in self.reads.open_conversations(ws.workspace_id, ITEMS_PER_CLIENT)]
        return sorted(found, key=lambda pair: str(getattr(pair[1], "last_message_at", "") or ""), reverse=True)

    def attention(self, agency_id: str) -> list[tuple[WorkspaceRow, str, tuple[Any, list[Any]]]]:
        out: list[tuple[WorkspaceRow, str, tuple[Any, list[Any]]]] = []
        for ws in self.clients(agency_id):
            out += [(ws, "at_risk", post) for post in self.reads.at_risk(ws.workspace_id, ITEMS_PER_CLIENT)]
            out += [(ws, "failed", post) for post in self.reads.failed(ws.workspace_id, ITEMS_PER_CLIENT)]
        return out

    def monthly(self, agency_id: str, month: str) -> list[tuple[WorkspaceRow, dict[str, Any]]]:
        return [(ws, self.reads.month_report(ws.workspace_id, month)) for ws in self.clients(agency_id)]

    # -- who am I ------------------------------------------------------------------------

    def me(self, headers: dict[str, str]) -> dict[str, Any]:
        from chalicelib.people.jwt_verifier import looks_like_jwt

        token = self.people.bearer(headers)
        if not looks_like_jwt(token):
            principal = self.people.keys.authenticate(headers)
            found = self.people.workspace_of(principal.workspace_id)
            return {"user": None, "auth": "api_key", "agencies": [], "workspaces": [
                {"id": principal.workspace_id, "name": found[0] if found else "", "role": principal.role,
                 "agency_id": found[1] if found else None, "through": "api_key"}]}
        user = self.people.signed_in(token).user
        workspaces: dict[str, dict[str, Any]] = {}
        agencies = []
        for membership in self.people.memberships.of_user(user.user_id):
            if membership.kind == "agency":
                agencies.append(self._agency_entry(membership.scope_id, membership.role, workspaces))
            else:
                self._offer(workspaces, membership.scope_id, membership.role, "workspace")
        return {"user": {"id": user.user_id, "email": user.email}, "auth": "user",
                "workspaces": sorted(workspaces.values(), key=lambda w: str(w["name"])),
                "agencies": [a for a in agencies if a is not None]}

    def _agency_entry(self, agency_id: str, role: str, workspaces: dict[str, dict[str, Any]]
                      ) -> dict[str, Any] | None:
        agency = self.agencies.get(agency_id)
        if agency is None:
            return None
        for ws in self.clients(agency_id):
            self._offer(workspaces, ws.workspace_id, role, "agency", ws.name, agency_id)
        return {"id": agency_id, "name": agency.name, "role": role}

    def _offer(self, workspaces: dict[str, dict[str, Any]], workspace_id: str, role: str, through: str,
               name: str | None = None, agency_id: str | None = None) -> None:
        """Keeps the higher role when a person reaches a workspace both ways."""
        current = workspaces.get(workspace_id)
        if current is not None and ROLE_RANK[current["role"]] >= ROLE_RANK[role]:
            return
        if name is None:
            found = self.people.workspace_of(workspace_id)
            if found is None:
                return
            name, agency_id = found
        workspaces[workspace_id] = {"id": workspace_id, "name": name, "role": role, "agency_id": agency_id,
                                    "through": through}
