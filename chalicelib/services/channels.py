"""Connected channels: credentials sealed at rest, never returned, never logged."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.clock import Clock, to_rfc3339
from chalicelib.crypto import SecretBox
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.networks.base import ChannelContext, NetworkAdapter, NetworkError
from chalicelib.networks.registry import NETWORKS, get_spec
from chalicelib.repositories.channels import ChannelRepository, ChannelRow

log = logging.getLogger("herald.channels")

AdapterFactory = Callable[[str], NetworkAdapter]


class ChannelService:
    def __init__(self, channels: ChannelRepository, secrets_box: SecretBox, adapters: AdapterFactory,
                 clock: Clock) -> None:
        self.channels = channels
        self.secrets_box = secrets_box
        self.adapters = adapters
        self.clock = clock

    @staticmethod
    def _context(workspace_id: str, channel_id: str) -> dict[str, str]:
        return {"workspace_id": workspace_id, "channel_id": channel_id}

    def get(self, workspace_id: str, channel_id: str) -> ChannelRow:
        row = self.channels.get(workspace_id, channel_id)
        if row is None:
            raise NotFound(f"No channel {channel_id} in this workspace.")
        return row

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[ChannelRow], str | None]:
        return self.channels.list(workspace_id, limit, cursor)

    def context_for(self, row: ChannelRow) -> ChannelContext:
        """The adapter's view of a channel, with decrypted credentials."""
        credentials = (self.secrets_box.open(row.credentials_sealed, self._context(row.workspace_id, row.channel_id))
                       if row.credentials_sealed else {})

        def save_credentials(new: dict[str, Any]) -> None:
            sealed = self.secrets_box.seal(new, self._context(row.workspace_id, row.channel_id))
            self.channels.set_credentials(row.workspace_id, row.channel_id, sealed, self._now())

        return ChannelContext(row.workspace_id, row.channel_id, row.network, dict(row.settings), credentials,
                              save_credentials)

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""

    def create(self, workspace_id: str, network: str, name: str, credentials: dict[str, Any],
               settings: dict[str, Any]) -> ChannelRow:
        spec = get_spec(network)
        if spec is None:
            raise ValidationFailed.field("network", f"'{network}' is not a network Herald knows; "
                                                    f"use one of {', '.join(NETWORKS)}")
        missing = [f for f in spec.credential_fields if not credentials.get(f)]
        if missing:
            raise ValidationFailed(
                f"credentials: {network} needs {', '.join(missing)}",
                details=[{"field": f"credentials.{f}", "message": "required"} for f in missing])
        if spec.account_setting and not settings.get(spec.account_setting):
            raise ValidationFailed.field(f"settings.{spec.account_setting}",
                                         f"required to connect a {network} channel")
        _check_settings(network, settings)
        now = self._now()
        row = ChannelRow(workspace_id, new_id("ch"), network, name, "active", now, now, settings=settings)
        row.credentials_sealed = self.secrets_box.seal(credentials, self._context(workspace_id, row.channel_id))
        row = self._identify(row, credentials)
        self.channels.create(row)
        log.info("Connected %s channel %s in workspace %s", network, row.channel_id, workspace_id)
        return row

    def _identify(self, row: ChannelRow, credentials: dict[str, Any]) -> ChannelRow:
        """Finds the account's handle and id, asking the network where it must."""
        spec = NETWORKS[row.network]
        if spec.account_setting:
            account_id = str(row.settings[spec.account_setting])
            handle = str(row.settings.get("handle") or account_id)
        else:
            context = ChannelContext(row.workspace_id, row.channel_id, row.network, dict(row.settings),
                                     dict(credentials))
            if spec.verify_on_connect:
                try:
                    account = self.adapters(row.network).describe_account(context)
                except NetworkError as exc:
                    raise ValidationFailed.field("credentials", f"{row.network} refused them: {exc.message}") \
                        from None
                if context.credentials != credentials:  # the adapter opened a session worth keeping
                    row.credentials_sealed = self.secrets_box.seal(
                        context.credentials, self._context(row.workspace_id, row.channel_id))
            else:
                account = self.adapters(row.network).describe_account(context)
            account_id, handle = account["account_id"], account["handle"]
            extra = {k: v for k, v in account.items() if k not in ("account_id", "handle")}
            if extra:
                row.settings = {**extra, **row.settings}
        return replace(row, handle=handle, account_key=f"{row.network}#{account_id}")

    def update(self, workspace_id: str, channel_id: str, *, name: str | None, credentials: dict[str, Any] | None,
               settings: dict[str, Any] | None, status: str | None) -> ChannelRow:
        row = self.get(workspace_id, channel_id)
        if name is not None:
            row.name = name
        if settings is not None:
            _check_settings(row.network, settings)
            row.settings = settings
        if status is not None:
            row.status = status
        if credentials is not None:
            row.credentials_sealed = self.secrets_box.seal(credentials, self._context(workspace_id, channel_id))
            row = self._identify(row, credentials)
            row.status = status or "active"  # new credentials clear needs_reauth
        row.updated_at = self._now()
        self.channels.save(row)
        return row

    def delete(self, workspace_id: str, channel_id: str) -> None:
        self.get(workspace_id, channel_id)
        self.channels.delete(workspace_id, channel_id)

    def mark_needs_reauth(self, workspace_id: str, channel_id: str) -> None:
        self.channels.set_status(workspace_id, channel_id, "needs_reauth", self._now())


def _check_settings(network: str, settings: dict[str, Any]) -> None:
    # Any channel may lower its network's text limit (registry.limits_for reads it).
    limit = settings.get("max_characters")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValidationFailed.field("settings.max_characters", "must be a whole number, 1 or more")
    if network == "sandbox":
        _check_sandbox_settings(settings)


def _check_sandbox_settings(settings: dict[str, Any]) -> None:
    from chalicelib.networks.sandbox import FAILURES

    fail = settings.get("fail", "none")
    if fail not in FAILURES:
        raise ValidationFailed.field("settings.fail", f"must be one of {', '.join(FAILURES)}")
    for name in ("latency_ms", "fail_times"):
        value = settings.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValidationFailed.field(f"settings.{name}", "must be a whole number, 0 or more")
