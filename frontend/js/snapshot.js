// Snapshots in events (Frigate, door stations): same-origin URLs need the bearer token, so
// they are fetched and shown as blob: URLs (the page's CSP allows 'self', data: and blob:).
// A snapshot on another server (Frigate's own URL) cannot be shown under that CSP: the
// camera's current still through /api/camera_proxy/<camera> stands in, with a link to it.

import { api } from "./auth.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

/** only web links leave the page (never javascript: or data: from event data) */
function webLink(url) {
  try {
    const parsed = new URL(url, location.href);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function sameOrigin(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/** An element showing the event's snapshot (or a placeholder); loads in the background. */
export function snapshot(data, { className = "snapshot" } = {}) {
  const url = data?.snapshot_url;
  const camera = typeof data?.camera === "string" && data.camera.startsWith("camera.") ? data.camera : null;
  const source = url && webLink(url) && sameOrigin(url) ? url : camera ? `/api/camera_proxy/${camera}` : null;
  const box = h("div", { class: `${className} empty` });
  const link = url ? webLink(url) : null;
  if (!source && link) {
    box.append(h("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, t("snapshot.open")));
    return box;
  }
  if (!source) return box;
  const img = h("img", { alt: t("snapshot.alt"), testid: "snapshot" });
  api(source, { raw: true })
    .then((response) => response.blob())
    .then((blob) => {
      img.src = URL.createObjectURL(blob);
      box.classList.remove("empty");
      box.append(img);
      if (link && !sameOrigin(link)) {
        box.append(h("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, t("snapshot.open")));
      }
    })
    .catch(() => box.append(h("span", { class: "muted" }, t("snapshot.none"))));
  return box;
}
