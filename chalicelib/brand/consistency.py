"""Brand consistency: what each channel shows the public, against the brand profile and against each other.

For every active channel the network's adapter reads the public profile with the channel's own
credentials (`read_profile`: display name, bio, link, avatar URL); networks without one are reported as
"not available". A field the network's API does not give (`PublicProfile.unavailable`: a YouTube channel's
link, a LinkedIn member's bio) is "not_available" in the channel's `fields` and is never compared, here or
across channels: a network that cannot show a link is not a link mismatch. Then, per channel:

- `name_mismatch`: the display name does not contain the brand's name (folded the workspace's way, so
  `HERALD Kahve` carries `Herald`);
- `link_missing` / `link_mismatch`: no link, or one whose host and path differ from the brand's website
  (scheme, `www.` and a trailing slash do not count);
- `bio_missing_keywords`: brand keywords the bio lacks (listening's language-aware matching);
- `avatar_missing` / `avatar_unreadable` / `avatar_not_logo`: the avatar, fetched through the outbound
  policy, is compared with the logo by perceptual hash (imagehash's pHash, 64 bits): a Hamming distance
  above AVATAR_DISTANCE (10) is another picture. Resizing, recompression and a circle crop of the same
  logo stay well below it (about 0-6); a different image lands around 20-40.

Across channels: `names_differ`, `links_differ`, `avatars_differ` group the channels that agree.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib.brand.brand_repository import BrandProfile, BrandRepository
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.outbound import OutboundRefused
from chalicelib.inbox.listening import contains_term, fold_text, matching_language
from chalicelib.networks.base import PROFILE_FIELDS, NetworkError, ProfileField, PublicProfile

log = logging.getLogger("herald.brand")

AVATAR_DISTANCE = 10
MAX_AVATAR_BYTES = 5_000_000
AVATAR_TIMEOUT_S = (5.0, 15.0)


@dataclass(frozen=True)
class Checked:
    channel: Any
    profile: PublicProfile | None
    status: str
    message: str | None
    avatar_hash: Any = None


def image_hash(data: bytes) -> Any:
    """pHash of an image; transparent parts laid on white first (a logo PNG and its JPEG avatar agree)."""
    import imagehash  # numpy/scipy: only the brand job loads them
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            flat.alpha_composite(rgba)
            return imagehash.phash(flat.convert("RGB"))
        return imagehash.phash(image.convert("RGB"))


def comparable_link(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.strip() if "//" in url else f"https://{url.strip()}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}" if host else None


class BrandConsistency:
    def __init__(self, brand: BrandRepository, channel_repository: Any, channels: Any,
                 adapters: Callable[[str], Any], load_media: Callable[[str, str], bytes],
                 http: Callable[[], Any], language_of: Callable[[str], str | None], clock: Clock) -> None:
        self.brand = brand
        self.channel_repository = channel_repository
        self.channels = channels
        self.adapters = adapters
        self.load_media = load_media
        self.http = http
        self._session: Any = None
        self.language_of = language_of
        self.clock = clock

    def check_all(self) -> dict[str, Any]:
        checked, failed = 0, []
        for workspace_id in self.brand.workspaces_with_profiles():
            try:
                self.check(workspace_id)
                checked += 1
            except Exception as exc:  # one workspace's trouble must not stop the others
                log.exception("Brand consistency of workspace %s failed", workspace_id)
                failed.append(f"{workspace_id}: {exc}")
        return {"workspaces": checked, "failed": failed}

    def check(self, workspace_id: str) -> dict[str, Any]:
        profile = self.brand.get_profile(workspace_id)
        language = matching_language(self.language_of(workspace_id))
        logo_hash, logo_problem = self._logo_hash(profile)
        results = [self._read(row) for row in self.channel_repository.list_all(workspace_id)
                   if row.status == "active"]
        channels = [self._channel_findings(result, profile, language, logo_hash, logo_problem)
                    for result in results]
        across = _across_channels(results, language)
        now = to_rfc3339(self.clock.now()) or ""
        findings = {"checked_at": now, "channels": channels, "across_channels": across,
                    "consistent": not across and all(not c["findings"] for c in channels)}
        self.brand.put_findings(workspace_id, findings, now)
        return findings

    def latest(self, workspace_id: str) -> dict[str, Any]:
        return self.brand.get_findings(workspace_id) or {"checked_at": None, "consistent": None, "channels": [],
                                                          "across_channels": []}

    # -- reading ---------------------------------------------------------------------

    def _logo_hash(self, profile: BrandProfile | None) -> tuple[Any, str | None]:
        if profile is None or not profile.logo_media_id:
            return None, None
        try:
            return image_hash(self.load_media(profile.workspace_id, profile.logo_media_id)), None
        except Exception as exc:  # a logo we cannot read is a finding, not a failed check
            return None, f"the logo (media {profile.logo_media_id}) could not be read: {exc}"

    def _read(self, row: Any) -> Checked:
        adapter = self.adapters(row.network)
        if not hasattr(adapter, "read_profile"):
            reason = getattr(adapter, "no_profile", None) or f"Herald cannot read {row.network} profiles yet"
            return Checked(row, None, "not_available", reason)
        try:
            profile: PublicProfile = adapter.read_profile(self.channels.context_for(row))
        except NetworkError as error:
            return Checked(row, None, "failed", error.message)
        avatar = self._avatar_hash(profile.avatar_url) if profile.offers("avatar_url") else None
        return Checked(row, profile, "checked", None, avatar)

    def _avatar_hash(self, url: str | None) -> Any:
        if not url:
            return None
        try:
            if self._session is None:
                self._session = self.http()
            response = self._session.request("GET", url, timeout=AVATAR_TIMEOUT_S, max_bytes=MAX_AVATAR_BYTES)
            if response.status_code >= 300:
                return f"the avatar answered {response.status_code}"
            return image_hash(response.content)
        except OutboundRefused as refused:
            return f"the avatar was not fetched: {refused.reason}"
        except Exception as exc:
            return f"the avatar could not be read: {exc}"

    # -- judging ---------------------------------------------------------------------

    def _channel_findings(self, result: Checked, brand: BrandProfile | None, language: str | None,
                          logo_hash: Any, logo_problem: str | None) -> dict[str, Any]:
        row, profile = result.channel, result.profile
        findings: list[dict[str, Any]] = []
        if profile is not None and brand is not None:
            findings += _text_findings(profile, brand, language)
            findings += _avatar_findings(profile, result.avatar_hash, logo_hash, logo_problem)
        return {"channel_id": row.channel_id, "network": row.network, "name": row.name, "status": result.status,
                "message": result.message, "profile": _profile_view(profile), "fields": _field_states(result),
                "findings": findings}


def _profile_view(profile: PublicProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    shown: dict[str, Any] = {name: None if not profile.offers(name) else getattr(profile, name)
                             for name in PROFILE_FIELDS}
    return {**shown, "handle": profile.handle}


def _field_states(result: Checked) -> dict[str, str]:
    """Per compared field: "checked", "not_available" (the network's API does not give it, or Herald cannot read
    the network's profiles) or "failed" (the read failed)."""
    if result.profile is None:
        return dict.fromkeys(PROFILE_FIELDS, "failed" if result.status == "failed" else "not_available")
    profile = result.profile
    return {name: "checked" if profile.offers(name) else "not_available" for name in PROFILE_FIELDS}


def _finding(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details}


def _text_findings(profile: PublicProfile, brand: BrandProfile, language: str | None) -> list[dict[str, Any]]:
    """Name, link and bio against the brand; a field the network does not give is not judged."""
    findings = []
    if profile.offers("display_name"):
        findings += _name_findings(profile.display_name or "", brand, language)
    if brand.website and profile.offers("link"):
        findings += _link_findings(profile.link, brand.website)
    if profile.offers("bio"):
        bio = fold_text(profile.bio or "", language)
        missing = [k for k in brand.keywords if not contains_term(bio, k, language)]
        if missing:
            findings.append(_finding("bio_missing_keywords", f"The bio lacks {', '.join(missing)}.",
                                     missing=missing))
    return findings


def _name_findings(shown: str, brand: BrandProfile, language: str | None) -> list[dict[str, Any]]:
    if contains_term(fold_text(shown, language), brand.name, language):
        return []
    return [_finding("name_mismatch", f"The name shown is {shown!r}, not the brand's {brand.name!r}.",
                     expected=brand.name, found=shown)]


def _link_findings(shown: str | None, website: str) -> list[dict[str, Any]]:
    link = comparable_link(shown)
    if link is None:
        return [_finding("link_missing", f"The profile has no link; the brand's is {website}.", expected=website)]
    if link != comparable_link(website):
        return [_finding("link_mismatch", f"The profile links to {shown}, not {website}.", expected=website,
                         found=shown)]
    return []


def _avatar_findings(profile: PublicProfile, avatar: Any, logo: Any, logo_problem: str | None) -> list[dict[str, Any]]:
    if not profile.offers("avatar_url"):
        return []
    if logo_problem:
        return [_finding("logo_unreadable", logo_problem)]
    if logo is None:
        return []
    if not profile.avatar_url:
        return [_finding("avatar_missing", "The profile shows no avatar.")]
    if isinstance(avatar, str):
        return [_finding("avatar_unreadable", avatar.capitalize() + ".")]
    distance = int(avatar - logo)
    if distance > AVATAR_DISTANCE:
        return [_finding("avatar_not_logo", f"The avatar is not the brand's logo (perceptual distance {distance} "
                                            f"of 64, the same logo stays within {AVATAR_DISTANCE}).",
                         distance=distance, threshold=AVATAR_DISTANCE)]
    return []


def _groups(values: dict[str, Any], same: Callable[[Any, Any], bool]) -> list[list[str]]:
    groups: list[tuple[Any, list[str]]] = []
    for channel_id, value in values.items():
        for first, members in groups:
            if same(first, value):
                members.append(channel_id)
                break
        else:
            groups.append((value, [channel_id]))
    return [members for _first, members in groups]


def _offering(results: list[Checked], name: ProfileField) -> list[tuple[str, PublicProfile]]:
    """The channels read whose network gives this field."""
    return [(r.channel.channel_id, r.profile) for r in results if r.profile is not None and r.profile.offers(name)]


def _across_channels(results: list[Checked], language: str | None) -> list[dict[str, Any]]:
    checks = (
        ("names_differ", "The channels show different names.",
         {cid: fold_text(p.display_name or "", language) for cid, p in _offering(results, "display_name")},
         lambda a, b: a == b),
        ("links_differ", "The channels link to different places.",
         {cid: comparable_link(p.link) for cid, p in _offering(results, "link") if p.link},
         lambda a, b: a == b),
        ("avatars_differ", "The channels show different avatars.",
         {r.channel.channel_id: r.avatar_hash for r in results if r.avatar_hash is not None
          and not isinstance(r.avatar_hash, str)},
         lambda a, b: int(a - b) <= AVATAR_DISTANCE),
    )
    found = []
    for code, message, values, same in checks:
        groups = _groups(values, same)
        if len(groups) > 1:
            found.append({"code": code, "message": message, "groups": groups})
    return found
