// The lab's own tools: publish planning slots (one, or a weekly pattern), see and withdraw
// them, and the turnaround rules the ship dates are estimated from.
import { ApiError, api, del, get, post } from "../api.js";
import { busy, clearErrors, field, formAlert, formData, h, orNull, page, select, showErrors } from "../ui.js";
import { STAGE_LABELS, calendarFeed } from "./case.js";

const MODES = [["video", "Video call"], ["remote_control", "Remote-control session"], ["phone", "Phone call"]];

function zones(current) {
  const list = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set([current, ...list])].filter(Boolean).map((z) => [z, z]);
}

export async function show({ me, render }) {
  if (me.office.kind !== "lab") return page("Slots and turnaround", h("p", {}, "These tools are for dental labs. ", h("a", { href: "/cases" }, "Your lab cases")));
  const zone = me.office.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  const from = new Date();
  const [slots, turnaround] = await Promise.all([
    get("planning/slots", { lab: me.office.id, from: from.toISOString(), to: new Date(from.getTime() + 90 * 86400000).toISOString(), tz: zone }),
    get("lab/turnaround"),
  ]);
  const redraw = async () => render(await show({ me, render }));

  // ---------------------------------------------------------------- publish
  const form = h(
    "form",
    { class: "form", novalidate: true, "aria-labelledby": "publish-title" },
    formAlert(),
    h("div", { class: "row" }, field("Day", { name: "day", type: "date", required: true }), field("Starts at", { name: "start_time", type: "time", field: "start", required: true }), field("Ends at", { name: "end_time", type: "time", field: "end", required: true })),
    select("Time zone", { name: "time_zone", value: zone }, zones(zone), { hint: "Your lab's zone unless you choose another." }),
    select("How the session is held", { name: "mode", value: "video" }, MODES),
    field("Join link", { name: "join_url", type: "url", placeholder: "https://" }, { hint: "A video-call link, or the joining details below (one of the two is needed)." }),
    field("Joining details", { name: "join_details", multiline: true, rows: "2" }, { hint: "For example a remote-control session ID and password, or the number to call. Shown to the client who books." }),
    field("Repeat weekly for this many more weeks", { name: "repeat_weeks", type: "number", min: "0", max: "52", value: "0" }, { hint: "0 publishes a single slot." }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Publish")),
    h("p", { class: "save-status", role: "status" }),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const d = formData(form);
    const missing = ["day", "start_time", "end_time"].filter((k) => !d[k]);
    if (missing.length) {
      showErrors(form, new ApiError(422, { errors: missing.map((k) => ({ field: k === "day" ? "day" : k === "start_time" ? "start" : "end", message: "Required." })) }));
      return;
    }
    try {
      const made = await busy(form.querySelector("button[type=submit]"), "Publishing…", () =>
        post(
          "planning/slots",
          {
            start: `${d.day}T${d.start_time}:00`,
            end: `${d.day}T${d.end_time}:00`,
            time_zone: d.time_zone,
            mode: d.mode,
            join_url: orNull(d.join_url),
            join_details: orNull(d.join_details),
            repeat_weeks: Number(d.repeat_weeks || 0),
          },
          { idempotent: true },
        ),
      );
      await redraw();
      document.querySelector("#publish .save-status")?.replaceChildren(`Published ${made.length} slot${made.length === 1 ? "" : "s"}.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(form, error);
    }
  });

  const fmt = (v, o) => new Date(v).toLocaleString(undefined, { timeZone: zone, ...o });
  const slotList = slots.length
    ? h(
        "table",
        { class: "list" },
        h("thead", {}, h("tr", {}, ["When", "How", "Booked", ""].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          slots.map((s) =>
            h(
              "tr",
              { "data-slot": s.id },
              h("td", {}, `${fmt(s.start, { weekday: "short", month: "short", day: "numeric" })}, ${fmt(s.start, { hour: "numeric", minute: "2-digit" })}–${fmt(s.end, { hour: "numeric", minute: "2-digit", timeZoneName: "short" })}`),
              h("td", {}, Object.fromEntries(MODES)[s.mode] || s.mode),
              h("td", {}, s.booked ? "Booked" : "Free"),
              h(
                "td",
                {},
                s.booked
                  ? h("span", { class: "muted small" }, "Cancel the booking on its case first")
                  : h(
                      "button",
                      {
                        type: "button",
                        class: "small",
                        onclick: async (e) => {
                          try {
                            await busy(e.currentTarget, "Withdrawing…", () => del(`planning/slots/${s.id}`));
                            await redraw();
                          } catch (error) {
                            if (!(error instanceof ApiError)) throw error;
                            e.target.after(h("span", { class: "field-error", role: "alert" }, error.message));
                          }
                        },
                      },
                      "Withdraw",
                    ),
              ),
            ),
          ),
        ),
      )
    : h("p", { class: "empty" }, "No slots in the next 90 days.");

  // ---------------------------------------------------------------- turnaround
  const rules = h(
    "form",
    { class: "form", novalidate: true },
    formAlert(),
    h(
      "table",
      { class: "list" },
      h("thead", {}, h("tr", {}, ["From stage", "Fewest business days", "Most business days"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        turnaround.rules.map((r, i) =>
          h(
            "tr",
            { "data-field": `rules.${i}` },
            h("th", { scope: "row" }, STAGE_LABELS[r.stage] || r.stage),
            h("td", { "data-field": `rules.${i}.min_days` }, h("input", { type: "number", min: "0", max: "365", name: `min-${r.stage}`, value: String(r.min_days), "aria-label": `${STAGE_LABELS[r.stage]}: fewest days` }), h("p", { class: "field-error", hidden: true })),
            h("td", { "data-field": `rules.${i}.max_days` }, h("input", { type: "number", min: "0", max: "365", name: `max-${r.stage}`, value: String(r.max_days), "aria-label": `${STAGE_LABELS[r.stage]}: most days` }), h("p", { class: "field-error", hidden: true })),
          ),
        ),
      ),
    ),
    me.role === "admin" ? h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save the turnaround")) : h("p", { class: "muted" }, "Only your lab's admin can change these."),
    h("p", { class: "save-status", role: "status" }),
  );
  rules.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(rules);
    const d = formData(rules);
    const body = { rules: turnaround.rules.map((r) => ({ stage: r.stage, min_days: Number(d[`min-${r.stage}`]), max_days: Number(d[`max-${r.stage}`]) })) };
    try {
      await busy(rules.querySelector("button[type=submit]"), "Saving…", () => api("PUT", "lab/turnaround", { body }));
      rules.querySelector(".save-status").textContent = "Saved: new ship dates use these rules.";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(rules, error);
    }
  });

  return page(
    "Slots and turnaround",
    h("section", { class: "card", id: "publish", "aria-labelledby": "publish-title" }, h("h2", { id: "publish-title" }, "Publish planning slots"), h("p", { class: "hint" }, "Clients whose case is Ready to Plan book one of your free slots."), form),
    h("section", { class: "card", "aria-labelledby": "slots-title" }, h("h2", { id: "slots-title" }, `Your slots (${zone})`), slotList),
    h("section", { class: "card", "aria-labelledby": "turn-title" }, h("h2", { id: "turn-title" }, "Turnaround"), h("p", { class: "hint" }, "Business days (Monday to Friday) from entering each stage until the case ships. Ship dates shown to clients are estimated from these."), rules),
    h("section", { class: "card", "aria-labelledby": "feed-title" }, h("h2", { id: "feed-title" }, "Calendar"), calendarFeed()),
  );
}
