// The community's site plan as SVG (800 x 800, the registry's coordinate space): places drawn
// by kind at their x,y, device markers at their place, and alarms (strangers, forced or
// held-open doors) popping up where they happen until acknowledged.

import { h, s, clear } from "./dom.js";
import { describe, eventPlace } from "./feed.js";
import { t } from "./i18n.js";

const SIZE = 800;
const MAX_ALARMS = 12;
const DOMAIN_COLOURS = {
  camera: "#2563eb",
  lock: "#16a34a",
  gate: "#0d9488",
  binary_sensor: "#9333ea",
  siren: "#dc2626",
  alarm_control_panel: "#ea580c",
  intercom: "#ca8a04",
  sensor: "#64748b",
  switch: "#475569",
  light: "#eab308",
};

export class SitePlan {
  constructor({ onAlarm } = {}) {
    this.places = new Map();
    this.onAlarm = onAlarm;
    this.alarms = [];
    this.svg = s("svg", {
      viewBox: `-20 -20 ${SIZE + 40} ${SIZE + 40}`,
      class: "siteplan",
      role: "img",
      testid: "siteplan",
    });
    this.layers = {
      places: s("g", { class: "places" }),
      devices: s("g", { class: "devices" }),
      alarms: s("g", { class: "alarms" }),
    };
    this.svg.append(
      s("rect", { x: 0, y: 0, width: SIZE, height: SIZE, class: "ground", rx: 12 }),
      this.layers.places,
      this.layers.devices,
      this.layers.alarms,
    );
    this.element = h("div", { class: "siteplan-box" }, this.svg);
  }

  setPlaces(places) {
    this.places = new Map(places.map((place) => [place.place_id, place]));
    clear(this.layers.places);
    // households sit at their unit entrance's point: the plan shows the entrance, not 100 homes
    const drawn = places.filter(
      (p) => p.kind !== "household" && p.x !== null && p.x !== undefined && p.y !== null,
    );
    for (const place of drawn) this.layers.places.append(this._place(place));
  }

  placeName(placeId) {
    return this.places.get(placeId)?.name || placeId;
  }

  /** x,y of a place, or of its nearest ancestor that has them */
  position(placeId) {
    const seen = new Set();
    while (placeId && !seen.has(placeId)) {
      seen.add(placeId);
      const place = this.places.get(placeId);
      if (!place) return null;
      if (place.x !== null && place.x !== undefined && place.y !== null && place.y !== undefined) {
        return [Number(place.x), Number(place.y)];
      }
      placeId = place.parent_id;
    }
    return null;
  }

  _place(place) {
    const x = Number(place.x);
    const y = Number(place.y);
    // "1号楼1单元" under "1号楼" is labelled "1单元": the building says the rest
    const parent = this.places.get(place.parent_id);
    const short = parent && place.name.startsWith(parent.name) ? place.name.slice(parent.name.length) : place.name;
    const label = s("text", { x, y: y + 4, class: "label" }, short || place.name);
    let shape;
    switch (place.kind) {
      case "building":
        shape = s("rect", { x: x - 50, y: y - 30, width: 100, height: 60, rx: 4 });
        label.setAttribute("y", String(y - 8));
        break;
      case "unit_entrance":
        shape = s("rect", { x: x - 9, y: y - 9, width: 18, height: 18, rx: 3 });
        label.setAttribute("y", String(y + 24));
        label.classList.add("small");
        break;
      case "pedestrian_gate":
      case "vehicle_gate":
        shape = s("circle", { cx: x, cy: y, r: 14 });
        label.setAttribute("y", String(y + 30));
        break;
      case "perimeter_zone":
        shape = s("path", { d: `M${x} ${y - 12}L${x + 12} ${y}L${x} ${y + 12}L${x - 12} ${y}Z` });
        label.setAttribute("y", String(y + 28));
        label.classList.add("small");
        break;
      case "car_park":
        shape = s("rect", { x: x - 40, y: y - 50, width: 80, height: 100, rx: 6 });
        break;
      case "public_area":
        shape = s("circle", { cx: x, cy: y, r: 50 });
        break;
      case "guard_room":
        shape = s("rect", { x: x - 16, y: y - 12, width: 32, height: 24, rx: 3 });
        label.setAttribute("y", String(y + 28));
        break;
      default:
        shape = s("circle", { cx: x, cy: y, r: 8 });
        label.setAttribute("y", String(y + 22));
    }
    return s(
      "g",
      { class: `place kind-${place.kind}`, "data-place": place.place_id },
      s("title", {}, `${place.name} (${place.place_id})`),
      shape,
      label,
    );
  }

  /** Device markers for the entities that are at a place with coordinates. */
  setDevices(states) {
    clear(this.layers.devices);
    const perPlace = new Map();
    for (const state of states) {
      const placeId = state.attributes?.place_id;
      if (!placeId) continue;
      const position = this.position(placeId);
      if (!position) continue;
      const key = position.join(",");
      const index = perPlace.get(key) || 0;
      perPlace.set(key, index + 1);
      const domain = state.entity_id.split(".")[0];
      const angle = (index * 2 * Math.PI) / 8 - Math.PI / 2;
      const cx = position[0] + 20 * Math.cos(angle);
      const cy = position[1] + 20 * Math.sin(angle);
      const problem = ["unlocked", "open", "on", "triggered", "unavailable"].includes(state.state);
      this.layers.devices.append(
        s(
          "circle",
          {
            cx,
            cy,
            r: 5,
            fill: DOMAIN_COLOURS[domain] || "#334155",
            class: `device${problem ? " attention" : ""}`,
            "data-entity": state.entity_id,
          },
          s("title", {}, `${state.attributes?.friendly_name || state.entity_id}: ${state.state}`),
        ),
      );
    }
  }

  /** An alarm pops up at the event's place (if the plan knows where that is). */
  alarm(event) {
    const placeId = eventPlace(event);
    const position = placeId ? this.position(placeId) : null;
    if (!position) return false;
    const [x, y] = position;
    const { title } = describe(event, (id) => this.placeName(id));
    const width = Math.max(120, Math.min(360, title.length * 16 + 44));
    const left = Math.min(Math.max(x - width / 2, 0), SIZE - width);
    // several alarms at one place stack their bubbles instead of covering each other
    const here = [...this.layers.alarms.children].filter((g) => g.dataset.place === placeId).length;
    const top = (y > 80 ? y - 70 : y + 30) + (y > 80 ? -1 : 1) * 40 * (here % 4);
    const group = s(
      "g",
      {
        class: `plan-alarm type-${event.event_type}`,
        testid: "plan-alarm",
        "data-event-type": event.event_type,
        "data-place": placeId,
        tabindex: 0,
        onclick: () => this.onAlarm?.(event),
      },
      s("circle", { cx: x, cy: y, r: 22, class: "pulse" }),
      s("circle", { cx: x, cy: y, r: 9, class: "dot" }),
      s("rect", { x: left, y: top, width, height: 34, rx: 6, class: "bubble" }),
      s("text", { x: left + 10, y: top + 22, class: "bubble-text" }, title),
      s(
        "text",
        {
          x: left + width - 16,
          y: top + 22,
          class: "dismiss",
          onclick: (e) => {
            e.stopPropagation();
            group.remove();
          },
        },
        "×",
      ),
    );
    group.append(s("title", {}, t("plan.alarm_hint")));
    this.layers.alarms.append(group);
    while (this.layers.alarms.children.length > MAX_ALARMS) this.layers.alarms.firstChild.remove();
    return true;
  }
}
