// How one network will show the post, for the composer's preview: what the API's POST /posts/validate says
// about that channel (`networks[]`: the text cut at the network's limit, in its own units, the media it takes,
// the link card it draws) when it speaks of the text as typed now, else the typed text, not yet counted.
// No DOM here: composer.js draws it (and tests/unit/console/test_preview_js.py runs it under Node).

// Networks whose accounts are named @handle; Reddit's u/name; the others by their name alone.
const AT_HANDLES = new Set(["x", "bluesky", "mastodon", "instagram", "threads", "tiktok", "telegram", "pinterest",
  "sandbox"]);

export function handleOf(network, handle) {
  if (!handle) return "";
  const bare = String(handle).replace(/^@/, "");
  if (network === "reddit") return `u/${bare}`;
  return AT_HANDLES.has(network) ? `@${bare}` : bare;
}

const codePoints = (text) => [...(text || "")].length;

// channel: {id, name, network, handle}; shown: the API's entry for it (or undefined); typed: {text, media,
// thread, first_comment} as the composer holds them, `text` already this channel's (its variant or the main).
export function previewOf(channel, shown, typed) {
  const current = shown && shown.text === typed.text ? shown : null;
  const names = Object.fromEntries((typed.media || []).map((m) => [m.media_id, m.name || m.media_id]));
  const text = current ? current.shown_text : typed.text;
  return {
    channelId: channel.id,
    network: channel.network,
    name: channel.name || channel.id,
    handle: handleOf(channel.network, channel.handle),
    text,
    // What the network would not show (the API refuses the post until it fits).
    cutOff: current && !current.fits ? typed.text.slice(current.shown_text.length) : "",
    fits: current ? current.fits : true,
    count: current ? `${current.length} of ${current.limit} ${current.unit}` : `${codePoints(typed.text)} characters (checking…)`,
    media: current
      ? current.media.map((m) => ({ label: names[m.media_id] || m.media_id, accepted: m.accepted }))
      : (typed.media || []).map((m) => ({ label: m.name || m.media_id, accepted: true })),
    mediaLeftOut: current ? current.media_left_out : 0,
    card: current && current.link_card ? { host: current.link_card.host, url: current.link_card.url } : null,
    thread: (typed.thread || []).filter((p) => p.text).map((p, i) => `${i + 2}/ ${p.text}`),
    firstComment: typed.first_comment || "",
  };
}
