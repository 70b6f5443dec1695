"""Connected channels: credentials sealed at rest, never returned, never logged.

A channel's platform account (the key webhooks are routed by) always comes from
the network, asked with the channel's own credentials before anything is saved;
what the client typed is at most a choice among the accounts the network names.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ValidationError

from chalicelib.accounts.channel_repository import ChannelRepository, ChannelRow
from chalicelib.accounts.tokens import TokenService, apply_token_facts
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.crypto import SecretBox
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.networks.base import ChannelContext, GrantedAccount, NetworkAdapter, NetworkError, RetryableError
from chalicelib.networks.registry import NETWORKS, NetworkSpec, default_limits, get_spec

log = logging.getLogger("herald.channels")

AdapterFactory = Callable[[str], NetworkAdapter]
# Told when a channel's standing changes (needs_reauth, reconnected, disabled): its scheduled posts' risk.
StatusListener = Callable[[str, str], None]
MAX_KEY_IN_ERROR = 64  # a client's unknown key is named in the error, cut to this length


class ChannelService:
    def __init__(self, repository: ChannelRepository, secret_box: SecretBox, adapters: AdapterFactory,
                 clock: Clock, *, tokens: TokenService | None = None,
                 on_status_change: StatusListener | None = None) -> None:
        self.repository = repository
        self.secret_box = secret_box
        self.adapters = adapters
        self.clock = clock
        self.tokens = tokens
        self.on_status_change = on_status_change

    @staticmethod
    def _context(workspace_id: str, channel_id: str) -> dict[str, str]:
        return {"workspace_id": workspace_id, "channel_id": channel_id}

    def find(self, workspace_id: str, channel_id: str) -> ChannelRow | None:
        """The channel, or None: for callers to whom a missing channel is an outcome, not an error."""
        return self.repository.get(workspace_id, channel_id)

    def get(self, workspace_id: str, channel_id: str) -> ChannelRow:
        row = self.repository.get(workspace_id, channel_id)
        if row is None:
            raise NotFound(f"No channel {channel_id} in this workspace.")
        return row

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[ChannelRow], str | None]:
        return self.repository.list(workspace_id, limit, cursor)

    def context_for(self, row: ChannelRow) -> ChannelContext:
        """The adapter's view of a channel, with decrypted credentials; an OAuth token about to lapse is
        refreshed first, and `refresh_credentials` is the atomic refresh (accounts/tokens.py)."""
        credentials = (self.secret_box.open(row.credentials_sealed, self._context(row.workspace_id, row.channel_id))
                       if row.credentials_sealed else {})
        tokens = self.tokens
        refresh: Callable[[], Mapping[str, Any]] | None = None
        if tokens is not None and tokens.refreshable(row, credentials):
            credentials = tokens.refresh_if_due(row, credentials)

            def refresh() -> Mapping[str, Any]:
                return tokens.refresh(row)  # row carries the version this worker last read

        def save_credentials(new: dict[str, Any]) -> None:
            sealed = self.secret_box.seal(new, self._context(row.workspace_id, row.channel_id))
            self.repository.set_credentials(row.workspace_id, row.channel_id, sealed, self._now())

        return ChannelContext(row.workspace_id, row.channel_id, row.network, dict(row.settings), credentials,
                              save_credentials, refresh)

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""

    def create(self, workspace_id: str, network: str, name: str, credentials: dict[str, Any],
               settings: dict[str, Any]) -> ChannelRow:
        spec = get_spec(network)
        if spec is None:
            raise ValidationFailed.field("network", f"'{network}' is not a network Herald knows; "
                                                    f"use one of {', '.join(NETWORKS)}")
        checked_credentials = valid_credentials(spec, credentials)
        requested = valid_settings(spec, settings)
        now = self._now()
        row = ChannelRow(workspace_id, new_id("ch"), network, name, "active", now, now, settings=requested)
        row, kept_credentials = self._identify(row, checked_credentials, requested)
        row.credentials_sealed = self._seal(row, kept_credentials)
        self.repository.create(row)
        log.info("Connected %s channel %s in workspace %s", network, row.channel_id, workspace_id)
        return row

    def _seal(self, row: ChannelRow, credentials: dict[str, Any]) -> bytes:
        """Also notes on the row, in the clear, when the token and the grant lapse (never the tokens)."""
        apply_token_facts(row, credentials)
        return self.secret_box.seal(credentials, self._context(row.workspace_id, row.channel_id))

    def _identify(self, row: ChannelRow, credentials: dict[str, Any],
                  requested: dict[str, Any]) -> tuple[ChannelRow, dict[str, Any]]:
        """Asks the network who these credentials belong to (one call), before anything is saved.

        Returns the row with the account the network named and the credentials to keep (an
        adapter may have opened a session worth keeping).
        """
        spec = NETWORKS[row.network]
        context = ChannelContext(row.workspace_id, row.channel_id, row.network, dict(requested), dict(credentials))
        adapter = self.adapters(row.network)
        if spec.verify_on_connect:
            try:
                described = adapter.describe_account(context)
            except NetworkError as exc:
                raise _refused(row.network, exc, credentials) from None
        else:
            described = adapter.describe_account(context)
        account = _choose_account(spec, _accounts(described), requested)
        account_id = str(account["account_id"])
        settings = _with_network_settings(requested, {k: v for k, v in account.items()
                                                      if k not in ("account_id", "handle")})
        if spec.account_setting:
            settings[spec.account_setting] = account_id
        row = replace(row, handle=str(account.get("handle") or account_id),
                      account_key=f"{row.network}#{account_id}", settings=settings)
        return row, dict(context.credentials)

    def update(self, workspace_id: str, channel_id: str, *, name: str | None, credentials: dict[str, Any] | None,
               settings: dict[str, Any] | None, status: str | None) -> ChannelRow:
        row = self.get(workspace_id, channel_id)
        spec = NETWORKS[row.network]
        requested = valid_settings(spec, settings) if settings is not None else None
        checked_credentials = valid_credentials(spec, credentials) if credentials is not None else None
        if name is not None:
            row.name = name
        if status is not None:
            row.status = status
        if checked_credentials is not None:
            wanted = dict(requested if requested is not None else _client_settings(spec, row.settings))
            if spec.account_setting and spec.account_setting not in wanted and row.settings.get(spec.account_setting):
                wanted[spec.account_setting] = row.settings[spec.account_setting]  # renewing: the same account
            row, kept_credentials = self._identify(row, checked_credentials, wanted)
            row.credentials_sealed = self._seal(row, kept_credentials)
            row.token_version += 1  # a refresh in flight with the old tokens must not overwrite these
            row.status = status or "active"  # new credentials clear needs_reauth
        elif requested is not None:
            row.settings = _resettled(spec, row.settings, requested)
        row.updated_at = self._now()
        self.repository.save(row)
        if status is not None or checked_credentials is not None:
            self._status_changed(row.workspace_id, row.channel_id)
        return row

    def delete(self, workspace_id: str, channel_id: str) -> None:
        self.get(workspace_id, channel_id)
        self.repository.delete(workspace_id, channel_id)

    def mark_needs_reauth(self, workspace_id: str, channel_id: str) -> None:
        self.repository.set_status(workspace_id, channel_id, "needs_reauth", self._now())
        self._status_changed(workspace_id, channel_id)

    def _status_changed(self, workspace_id: str, channel_id: str) -> None:
        if self.on_status_change is None:
            return
        try:
            self.on_status_change(workspace_id, channel_id)
        except Exception:  # flagging posts at risk must never undo the change itself
            log.exception("Could not update the scheduled posts of channel %s", channel_id)

    # -- connecting by OAuth (chalicelib/accounts/connect.py) -----------------------------------------------

    def connect_granted(self, workspace_id: str, account: GrantedAccount) -> ChannelRow:
        """The channel of an account an OAuth grant reached. The network module already read the account
        with the grant's own token, so nothing is asked again. An account that already is a channel of this
        workspace gets the new tokens (a refresh token the new grant did not bring is kept), becomes active
        again, and stays the one channel."""
        if get_spec(account.network) is None:
            raise ValidationFailed.field("network", f"'{account.network}' is not a network Herald knows")
        account_key = f"{account.network}#{account.account_id}"
        existing = next((row for row in self.repository.find_by_account(account.network, account.account_id)
                         if row.workspace_id == workspace_id), None)
        now = self._now()
        if existing is None:
            row = ChannelRow(workspace_id, new_id("ch"), account.network, _channel_name(account), "active", now,
                             now, handle=account.handle, settings=dict(account.settings), account_key=account_key)
            row.credentials_sealed = self._seal(row, dict(account.credentials))
            self.repository.create(row)
            log.info("Connected %s channel %s in workspace %s by OAuth", row.network, row.channel_id, workspace_id)
            return row
        kept = self.secret_box.open(existing.credentials_sealed, self._context(workspace_id, existing.channel_id)) \
            if existing.credentials_sealed else {}
        row = replace(existing, handle=account.handle, status="active", updated_at=now,
                      settings={**existing.settings, **account.settings})
        row.credentials_sealed = self._seal(row, _renewed_credentials(kept, account.credentials))
        self.repository.save(row)
        log.info("Reconnected %s channel %s in workspace %s by OAuth", row.network, row.channel_id, workspace_id)
        return row


def _channel_name(account: GrantedAccount) -> str:
    """The account's name as the network gave it, made a valid channel name (one line, 1..100 characters)."""
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in account.name).split())
    return (name or account.handle or account.account_id)[:100]


# Credentials that belong to a refresh token: kept together when a new grant brings no refresh token.
REFRESH_FIELDS = ("refresh_token", "refresh_expires_at")


def _renewed_credentials(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    renewed = dict(new)
    if not renewed.get("refresh_token") and old.get("refresh_token"):
        renewed.update({key: old[key] for key in REFRESH_FIELDS if key in old})
    return renewed


# -- what a client may send ------------------------------------------------------------------


def valid_credentials(spec: NetworkSpec, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The network's known credential fields, strings of bounded length; values never echoed."""
    missing = [f for f in spec.credential_fields if credentials.get(f) in (None, "")]
    if missing:
        raise ValidationFailed(
            f"credentials: {spec.name} needs {', '.join(missing)}",
            details=[{"field": f"credentials.{f}", "message": "required"} for f in missing])
    return _validated(spec.credentials_model, credentials, "credentials")


def valid_settings(spec: NetworkSpec, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The network's known settings, of their types and within their bounds."""
    return _validated(spec.settings_model, settings, "settings",
                      {"max_text": default_limits(spec.name).max_text})


def _validated(model: type[BaseModel], data: Mapping[str, Any], prefix: str,
               context: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return model.model_validate(data, context=context).model_dump(exclude_none=True)
    except ValidationError as exc:
        # pydantic's messages name the rule broken, never the value given.
        details = [{"field": _field_name(prefix, error["loc"]), "message": error["msg"]}
                   for error in exc.errors(include_url=False, include_input=False, include_context=False)]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise ValidationFailed(message, details=details) from None


def _field_name(prefix: str, loc: tuple[Any, ...]) -> str:
    return ".".join([prefix, *(str(part)[:MAX_KEY_IN_ERROR] for part in loc)])


# -- what the network says -------------------------------------------------------------------


def _refused(network: str, exc: NetworkError, credentials: Mapping[str, Any]) -> ValidationFailed:
    said = exc.message
    for value in credentials.values():  # a network may quote what it was sent: never echo a secret
        if isinstance(value, str) and len(value) >= 4:
            said = said.replace(value, "[redacted]")
    if isinstance(exc, RetryableError):
        return ValidationFailed.field("credentials", f"could not check them with {network}, try again: {said}")
    return ValidationFailed.field("credentials", f"{network} refused them: {said}")


def _accounts(described: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The accounts the credentials reach: one, or (LinkedIn organizations) a list to choose from."""
    listed = described.get("accounts")
    return list(listed) if isinstance(listed, list) else [described]


def _choose_account(spec: NetworkSpec, accounts: list[Mapping[str, Any]],
                    requested: Mapping[str, Any]) -> Mapping[str, Any]:
    key = spec.account_setting
    named = requested.get(key) if key else None
    ids = [str(account["account_id"]) for account in accounts]
    if named is not None:
        for account in accounts:
            if str(account["account_id"]) == str(named):
                return account
        raise ValidationFailed.field(
            f"settings.{key}", f"{spec.name} says these credentials do not reach {named}; "
                               f"they reach {', '.join(ids)}", choices=ids)
    if len(accounts) == 1:
        return accounts[0]
    raise ValidationFailed.field(f"settings.{key}", f"these credentials reach several {spec.name} accounts: "
                                                    f"name one of {', '.join(ids)}", choices=ids)


def _with_network_settings(requested: Mapping[str, Any], from_network: Mapping[str, Any]) -> dict[str, Any]:
    """The network's facts win over what the client typed; a client may only lower the text limit."""
    merged = {**requested, **from_network}
    asked, allowed = requested.get("max_characters"), from_network.get("max_characters")
    if isinstance(asked, int) and isinstance(allowed, int):
        merged["max_characters"] = min(asked, allowed)
    return merged


def _client_settings(spec: NetworkSpec, stored: Mapping[str, Any]) -> dict[str, Any]:
    fields = spec.settings_model.model_fields
    return {k: v for k, v in stored.items() if k in fields}


def _resettled(spec: NetworkSpec, stored: Mapping[str, Any], requested: dict[str, Any]) -> dict[str, Any]:
    """New settings without new credentials: the account stays the one the network named."""
    fields = spec.settings_model.model_fields
    key = spec.account_setting
    if key and key in requested and requested[key] != stored.get(key):
        raise ValidationFailed.field(f"settings.{key}", "a channel's account changes only with new credentials "
                                                        "that the network says reach it")
    from_network = {k: v for k, v in stored.items() if k not in fields}
    if key and stored.get(key):
        from_network[key] = stored[key]
    return {**requested, **from_network}
