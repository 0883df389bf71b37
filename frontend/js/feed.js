// The live event feed: what the security events say, in the user's language, newest first,
// with the snapshot when the event has one. Used by the console (whole community) and the
// panel (the server sends a resident only their household's events).

import { h, clear, formatTime } from "./dom.js";
import { language, t } from "./i18n.js";
import { snapshot } from "./snapshot.js";

export const FEED_TYPES = [
  "stranger_detected",
  "person_sighted",
  "plate_recognized",
  "access_granted",
  "access_denied",
  "door_held_open",
  "door_forced",
  "duress",
  "tailgating",
  "intercom_call",
  "intercom_unlock",
  "visitor_pass_used",
  "visitor_pass_denied",
];
/** events that are alarms: red in the feed, popping up on the site plan */
export const ALARM_TYPES = new Set([
  "stranger_detected",
  "door_forced",
  "door_held_open",
  "duress",
  "tailgating",
]);
const MAX_ITEMS = 200;

/** The place an event happened at (a place id), if it says. */
export function eventPlace(event) {
  const data = event.data || {};
  for (const key of ["place", "place_id"]) {
    if (typeof data[key] === "string" && data[key]) return data[key];
  }
  return null;
}

function personName(data) {
  if (data.person && typeof data.person === "object") return data.person.name || data.person_id;
  return data.person || data.person_id || data.face_name || data.visitor_name || "";
}

/** {title, detail} for an event; `placeName(id)` names places, `entityName(id)` entities. */
export function describe(event, placeName = (id) => id, entityName = (id) => id) {
  const data = event.data || {};
  const place = placeName(eventPlace(event)) || data.door_name || data.door || data.camera || "";
  const vars = {
    place,
    person: personName(data),
    camera: data.camera ? entityName(data.camera) : "",
    plate: data.plate || "",
    door: data.door_name || data.door || data.station || "",
    reason: data.reason || "",
    phase: data.phase ? t(`call.phase.${data.phase}`) : "",
    household: data.household || "",
  };
  const title = t(`event.${event.event_type}`, vars);
  const detailKey = `event.${event.event_type}.detail`;
  const detail = t(detailKey, vars);
  return { title, detail: detail === detailKey ? "" : detail };
}

export class EventFeed {
  constructor({ placeName, entityName, onSelect, testid = "event-feed" } = {}) {
    this.placeName = placeName || ((id) => id);
    this.entityName = entityName || ((id) => id);
    this.onSelect = onSelect;
    this.items = [];
    this.element = h("ol", { class: "feed", testid });
  }

  add(event) {
    this.items.unshift(event);
    this.items.length = Math.min(this.items.length, MAX_ITEMS);
    this.element.prepend(this._item(event));
    while (this.element.children.length > MAX_ITEMS) this.element.lastChild.remove();
  }

  render() {
    clear(this.element, this.items.map((event) => this._item(event)));
    if (!this.items.length) this.element.append(h("li", { class: "muted empty-feed" }, t("feed.empty")));
  }

  _item(event) {
    this.element.querySelector(".empty-feed")?.remove();
    const { title, detail } = describe(event, this.placeName, this.entityName);
    const alarm = ALARM_TYPES.has(event.event_type) || event.event_type === "access_denied";
    const hasSnapshot = event.data?.snapshot_url || String(event.data?.camera || "").startsWith("camera.");
    return h(
      "li",
      {
        class: `feed-item${alarm ? " alarm" : ""}`,
        dataset: { eventType: event.event_type },
        testid: "feed-item",
        onclick: () => this.onSelect?.(event),
      },
      hasSnapshot ? snapshot(event.data, { className: "thumb" }) : null,
      h(
        "div",
        { class: "feed-text" },
        h("strong", {}, title),
        detail ? h("span", {}, detail) : null,
        h("time", {}, formatTime(event.time_fired, language())),
      ),
    );
  }
}
