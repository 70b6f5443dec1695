"""Who the members of a workspace are, as approval and comments need them: to resolve an @mention, and to
email a step's approvers. Today the members are the workspace's API keys (a name, no email); the people work
adds signed-in users (a name and an email) by giving the container another `MemberDirectory`."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Member:
    id: str  # as the audit log names actors: `key:<key_id>`, later `user:<id>`
    name: str | None
    role: str
    email: str | None = None


class MemberDirectory(Protocol):
    def members(self, workspace_id: str) -> list[Member]: ...


class ApiKeyDirectory:
    """The workspace's live API keys as members (`list_keys(workspace_id)` gives ApiKeyRow-like rows)."""

    def __init__(self, list_keys: Callable[[str], Iterable[Any]]) -> None:
        self.list_keys = list_keys

    def members(self, workspace_id: str) -> list[Member]:
        return [Member(f"key:{row.key_id}", row.name, row.role) for row in self.list_keys(workspace_id)
                if not getattr(row, "revoked_at", None)]


class PeopleAndKeys:
    """The workspace's people (members of it or of its agency, named by their email) and its API keys."""

    def __init__(self, people: Callable[[str], Iterable[Any]], keys: MemberDirectory) -> None:
        self.people = people
        self.keys = keys

    def members(self, workspace_id: str) -> list[Member]:
        found = [Member(f"user:{m.user_id}", m.email, m.role, m.email) for m in self.people(workspace_id)]
        return found + self.keys.members(workspace_id)


MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|[A-Za-z0-9][\w.-]*)")


def handle_of(name: str) -> str:
    """`@first-owner-key`, `@FirstOwnerKey` and `@first_owner_key` all name "first owner key"."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def mentioned(text: str, members: list[Member]) -> tuple[list[Member], list[str]]:
    """The members an @mention names (by email, or by name written without spaces), and the mentions that
    named nobody."""
    by_email = {m.email.lower(): m for m in members if m.email}
    by_handle = {handle_of(m.name): m for m in members if m.name and handle_of(m.name)}
    found: dict[str, Member] = {}
    unknown: list[str] = []
    for raw in MENTION.findall(text):
        word = raw.rstrip(".-")
        member = by_email.get(word.lower()) or by_handle.get(handle_of(word))
        if member is not None:
            found.setdefault(member.id, member)
        elif word not in unknown:
            unknown.append(word)
    return list(found.values()), unknown
