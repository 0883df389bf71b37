// "Enrol this face": a stranger the camera caught turns out to be someone the community knows
// (a new tenant, a carer). Staff pick the registered person; the hub puts the event's cropped
// snapshot into Frigate's face library under that person's face name (frigate.enroll_face), so
// the next pass is recognised instead of ringing the guard.

import { api, callService } from "./auth.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { toast } from "./shell.js";

const MAY_ENROL = new Set(["admin", "staff"]);

/** The form for a `stranger_detected` event, or null when it does not apply. */
export function enrollForm(event, user) {
  const eventId = event.data?.event_id;
  if (event.event_type !== "stranger_detected" || !eventId || !MAY_ENROL.has(user?.role)) return null;
  const listId = `enroll-people-${eventId.replace(/[^\w-]/g, "_")}`;
  const people = h("datalist", { id: listId });
  const input = h("input", { list: listId, testid: "enroll-person", placeholder: t("enroll.person"), required: true });
  const button = h("button", { type: "submit", testid: "enroll-submit" }, t("enroll.button"));
  const result = h("p", { class: "muted", testid: "enroll-result", role: "status" });
  api("/api/shouwang/registry/people")
    .then((rows) => {
      for (const person of rows || []) {
        people.append(h("option", { value: person.person_id }, `${person.name || ""} ${person.household_id || ""}`.trim()));
      }
    })
    .catch(() => {}); // typing the id still works
  const form = h(
    "form",
    {
      class: "enroll",
      testid: "enroll-form",
      onsubmit: async (submitted) => {
        submitted.preventDefault();
        button.disabled = true;
        try {
          const answer = await callService(
            "frigate",
            "enroll_face",
            { person: input.value.trim(), event_id: eventId },
            { response: true },
          );
          result.textContent = t("enroll.done", { person: answer.person, face: answer.face_name });
          toast(result.textContent, "info");
        } catch (error) {
          result.textContent = t("enroll.failed", { message: error?.message || "" });
          toast(result.textContent, "error");
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h3", {}, t("enroll.title")),
    h("p", { class: "muted" }, t("enroll.help")),
    people,
    input,
    button,
    result,
  );
  return form;
}
