// One lab case: summary, teeth in the viewer's notation, stage and colour, ship date, the RX
// script, the client's edit (new ship date shown first), files, progress history, the planning
// slot picker and booking ("Add to calendar"), the lab's stage actions and booking tools,
// two-way notes between the client and the lab, and patient messages.
import { ApiError, api, del, get, post } from "../api.js";
import { picker } from "../attachments.js";
import { chart } from "../teeth.js";
import { busy, clearErrors, field, formAlert, formData, formatDate, formatDay, formatSize, h, newBadge, orNull, page, showErrors } from "../ui.js";
import { ARCHIVE_NOTE, colourChip, legend } from "./cases.js";
import { patientMessages } from "./patient_talk.js";
import { preview } from "./referral.js";

export const STAGE_LABELS = {
  missing_files: "Missing CBCT/Models",
  processing: "Processing",
  received: "Received",
  ready_to_plan: "Ready to Plan",
  planning_scheduled: "Planning Scheduled",
  planning_no_show: "Planning No Show",
  manufacturing: "Manufacturing",
  finished: "Finished",
  shipped: "Shipped",
  cancelled: "Cancelled",
  on_hold: "On Hold",
};
const MODES = { video: "Video call", remote_control: "Remote-control session", phone: "Phone call" };
const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function dl(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null || v === undefined || v === "" ? "—" : v)]));
}

export function shipText(ship) {
  if (!ship?.latest) return "No ship date yet";
  if (ship.earliest && ship.earliest !== ship.latest) return `${formatDay(ship.earliest)} to ${formatDay(ship.latest)}`;
  return formatDay(ship.latest);
}

const inZone = (value, zone, options) => new Date(value).toLocaleString(undefined, { timeZone: zone, ...options });
export const when = (start, end, zone) =>
  `${inZone(start, zone, { weekday: "long", month: "long", day: "numeric", year: "numeric" })}, ${inZone(start, zone, { hour: "numeric", minute: "2-digit" })}–${inZone(end, zone, { hour: "numeric", minute: "2-digit", timeZoneName: "short" })}`;

export async function show({ params, me, render }) {
  let c;
  let notes = [];
  try {
    c = await get(`cases/${params.id}`);
    notes = await get(`cases/${c.id}/notes`);
  } catch (error) {
    if (error.status === 404 || error.status === 422) return page("Case not found", h("p", {}, "It does not exist, or it is not shared with your office. ", h("a", { href: "/cases" }, "Back to the cases")));
    throw error;
  }
  const lab = c.side === "lab";
  let message = null; // a status line after an action

  const reload = async (text) => {
    c = await get(`cases/${c.id}`);
    notes = await get(`cases/${c.id}/notes`);
    message = text || null;
    render(draw());
  };

  const draw = () =>
    page(
      `Case ${c.reference}`,
      h(
        "div",
        { class: "referral-head" },
        h("p", { class: "lead" }, c.patient_name, h("span", { class: "muted" }, lab ? ` · from ${c.client.name || "—"}` : ` · sent to ${c.lab.name || "—"}`)),
        h("p", { class: "case-stage" }, colourChip(c.colour, c.stage_label), c.archived ? h("span", { class: "badge" }, "Archived") : null),
        message ? h("p", { class: "save-status", role: "status" }, message) : null,
        h(
          "div",
          { class: "toolbar no-print" },
          h("a", { class: "button", href: `/api/v1/cases/${c.id}/rx.pdf`, target: "_blank", rel: "noopener" }, "RX script (PDF)"),
          h("button", { type: "button", onclick: () => window.print() }, "Print"),
          h("a", { class: "button", href: "/cases" }, "All cases"),
        ),
      ),
      lab ? stageActions() : null,
      planning(),
      summary(),
      !lab && c.editable ? editCard() : null,
      !lab ? archiveCard() : null,
      filesCard(),
      notesCard(),
      history(),
      patientMessages({ ownerType: "case", ownerId: c.id, prefill: { patient_name: c.patient_name } }),
      legend(c.side),
    );

  function summary() {
    const teeth = chart({ notation: c.notation, selected: c.teeth.map((t) => t.iso), readOnly: true, caption: "Teeth of this case" });
    return h(
      "div",
      { class: "grid-2" },
      h(
        "section",
        { class: "card", "aria-labelledby": "sum-title" },
        h("h2", { id: "sum-title" }, "Summary"),
        dl([
          ["Patient", c.patient_name],
          ["Case ID", c.reference],
          [lab ? "Client" : "Lab", lab ? c.client.name : c.lab.name],
          ["Stage", c.stage_label],
          ["Ship date", h("span", { class: "ship-date" }, shipText(c.ship))],
          ["Requested due date", c.due_date ? formatDay(c.due_date) : null],
          ["Created", formatDate(c.created_at, { time: true })],
          ["Last modified", formatDate(c.last_modified_at, { time: true })],
          c.shipment ? ["Shipped", `${formatDate(c.shipment.shipped_at, { time: true })} by ${c.shipment.carrier}`] : null,
          c.shipment
            ? ["Tracking number", c.shipment.tracking_url ? h("a", { href: c.shipment.tracking_url, target: "_blank", rel: "noopener", "data-external": "" }, c.shipment.tracking_number) : c.shipment.tracking_number]
            : null,
        ]),
        h("h3", {}, "Description"),
        h("p", { class: "case-notes" }, c.description),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "teeth-title" },
        h("h2", { id: "teeth-title" }, "Teeth"),
        c.teeth.length ? null : h("p", { class: "empty" }, "No teeth selected."),
        teeth.element,
      ),
    );
  }

  // ------------------------------------------------------------- the client's edit
  function editCard() {
    const slot = h("div", {});
    const open = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          open.hidden = true;
          slot.replaceChildren(h("p", { role: "status" }, "Working out the new ship date…"));
          let estimate;
          try {
            estimate = await get(`cases/${c.id}/edit-preview`);
          } catch (error) {
            slot.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message));
            return;
          }
          slot.replaceChildren(editForm(estimate, () => {
            slot.replaceChildren();
            open.hidden = false;
            open.focus();
          }));
          slot.querySelector("textarea")?.focus();
        },
      },
      "Edit the case…",
    );
    return h("section", { class: "card no-print", "aria-labelledby": "edit-title" }, h("h2", { id: "edit-title" }, "Change the case"), h("p", { class: "hint" }, "You can change the description, the teeth and the due date until a planning session is booked. The lab starts again from Processing."), open, slot);
  }

  function editForm(estimate, close) {
    const teeth = chart({ notation: c.notation, selected: c.teeth.map((t) => t.iso), caption: "Teeth of the case" });
    const form = h(
      "form",
      { class: "form inline-card edit-form", novalidate: true },
      formAlert(),
      h("p", { class: "notice ship-preview", role: "status" }, h("strong", {}, "New ship date if you submit this change: "), estimate?.latest ? shipText(estimate) : "none yet (the lab waits for the files)", ". The lab evaluates the changed case from the start."),
      field("Description", { name: "description", multiline: true, rows: "5", value: c.description, required: true }),
      h("div", { class: "field", "data-field": "teeth" }, h("h3", {}, "Tooth chart"), teeth.element, h("p", { class: "field-error", hidden: true })),
      field("Requested due date", { name: "due_date", type: "date", value: c.due_date || "" }),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: close }, "Never mind"), h("button", { type: "submit", class: "primary" }, "Submit the change")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const data = formData(form);
      try {
        await busy(form.querySelector("button[type=submit]"), "Saving…", () =>
          api("PATCH", `cases/${c.id}`, { body: { description: data.description, teeth: [...teeth.selected], notation: "fdi", due_date: orNull(data.due_date) } }),
        );
        await reload("The change is sent to the lab.");
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    });
    return form;
  }

  function archiveCard() {
    return h(
      "section",
      { class: "card no-print", "aria-labelledby": "archive-title" },
      h("h2", { id: "archive-title" }, "Archive"),
      h("p", { class: "hint" }, ARCHIVE_NOTE),
      h(
        "button",
        {
          type: "button",
          onclick: async (e) => {
            await busy(e.currentTarget, "Saving…", () => api(c.archived ? "DELETE" : "PUT", `cases/${c.id}/archive`));
            await reload(c.archived ? "Back in your list." : "Archived: hidden from your list. The lab keeps working on it.");
          },
        },
        c.archived ? "Take it out of the archive" : "Archive this case",
      ),
    );
  }

  // ------------------------------------------------------------- planning
  function planning() {
    const canBook = !lab && ["ready_to_plan", "planning_no_show"].includes(c.stage);
    const scheduled = c.stage === "planning_scheduled" && c.booking;
    if (!scheduled && !canBook && !c.booking) return null;
    const card = h("section", { class: "card planning", "aria-labelledby": "plan-title" }, h("h2", { id: "plan-title" }, "Planning session"));
    if (scheduled) card.append(...bookingView(c.booking));
    else if (canBook) {
      if (c.stage === "planning_no_show") card.append(h("p", { class: "notice" }, "The last session was missed. Please book another one."));
      card.append(slotPicker());
    } else if (c.booking) {
      card.append(h("p", { class: "muted" }, `${c.stage === "planning_no_show" ? "Missed" : "Held"}: ${when(c.booking.start, c.booking.end, viewerZone())}`));
    } else if (lab && c.stage === "planning_no_show") {
      card.append(h("p", { class: "muted" }, "The client is asked to book another session."));
    }
    return card;
  }

  function bookingView(b) {
    const zone = viewerZone();
    return [
      h("p", { class: "lead booking-when" }, when(b.start, b.end, zone)),
      h("p", { class: "muted small" }, `Your time zone (${zone}). The lab's: ${b.time_zone}.`),
      dl([
        ["How", MODES[b.mode] || b.mode],
        b.join_url ? ["Join", h("a", { href: b.join_url, target: "_blank", rel: "noopener", "data-external": "" }, b.join_url)] : null,
        b.join_details ? ["Details", b.join_details] : null,
      ]),
      h(
        "div",
        { class: "add-to-calendar no-print", role: "group", "aria-labelledby": "cal-title" },
        h("h3", { id: "cal-title" }, "Add to calendar"),
        h(
          "div",
          { class: "actions" },
          h("a", { class: "button primary", href: b.ics_path || `/api/v1/cases/${c.id}/booking.ics`, download: `${c.reference}-planning.ics` }, "Download the calendar file (.ics)"),
          h("a", { class: "button", href: b.google_calendar_url, target: "_blank", rel: "noopener", "data-external": "" }, "Add to Google Calendar"),
        ),
        calendarFeed(),
      ),
      lab ? bookingTools() : h("p", { class: "hint" }, "To change or cancel the session, contact the lab."),
    ];
  }

  function slotPicker() {
    const zone = viewerZone();
    const holder = h("div", { class: "slot-picker" }, h("p", { role: "status" }, "Loading the lab's free times…"));
    const from = new Date();
    const to = new Date(from.getTime() + 42 * 86400000);
    get("planning/slots", { lab: c.lab.id, from: from.toISOString(), to: to.toISOString(), tz: zone }).then(
      (slots) => holder.replaceChildren(slotForm(slots, zone, "Book this session", async (slotId) => {
        await post(`cases/${c.id}/booking`, { slot_id: slotId });
        await reload("The planning session is booked.");
      })),
      (error) => holder.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message)),
    );
    return h("div", {}, h("h3", {}, "Book a planning session"), h("p", { class: "hint" }, `Free times of ${c.lab.name || "the lab"}, shown in your time zone (${zone}).`), holder);
  }

  // ------------------------------------------------------------- the lab's tools
  function bookingTools() {
    const slot = h("div", { class: "action-form" });
    const b = c.booking;
    const started = new Date(b.start) <= new Date();
    return h(
      "div",
      { class: "booking-tools no-print" },
      h("h3", {}, "Manage the session"),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            disabled: !started,
            title: started ? null : "Possible once the session has started",
            onclick: async (e) => {
              try {
                await busy(e.currentTarget, "Saving…", () => post(`cases/${c.id}/booking/no-show`));
                await reload("Marked as a no-show: the client is asked to book again.");
              } catch (error) {
                slot.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message));
              }
            },
          },
          "The client did not show up",
        ),
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              const holder = h("div", {}, h("p", { role: "status" }, "Loading your free slots…"));
              const from = new Date();
              get("planning/slots", { lab: c.lab.id, from: from.toISOString(), to: new Date(from.getTime() + 90 * 86400000).toISOString(), tz: viewerZone() }).then(
                (slots) =>
                  holder.replaceChildren(slotForm(slots.filter((s) => !s.booked), viewerZone(), "Move the session here", async (slotId) => {
                    await api("PUT", `cases/${c.id}/booking`, { body: { slot_id: slotId } });
                    await reload("The session is moved.");
                  })),
                (error) => holder.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message)),
              );
              slot.replaceChildren(holder);
            },
          },
          "Reschedule…",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: () => {
              const form = h(
                "form",
                { class: "form inline-card", novalidate: true },
                formAlert(),
                field("Reason (the client sees it)", { name: "reason", multiline: true, rows: "2" }),
                h("div", { class: "actions" }, h("button", { type: "button", onclick: () => slot.replaceChildren() }, "Never mind"), h("button", { type: "submit", class: "danger" }, "Cancel the session")),
              );
              form.addEventListener("submit", async (e) => {
                e.preventDefault();
                const data = formData(form);
                try {
                  await busy(form.querySelector("button[type=submit]"), "Cancelling…", () => api("DELETE", `cases/${c.id}/booking`, { body: { reason: orNull(data.reason) } }));
                  await reload("The session is cancelled: the case is Ready to Plan again.");
                } catch (error) {
                  if (!(error instanceof ApiError)) throw error;
                  showErrors(form, error);
                }
              });
              slot.replaceChildren(form);
              form.querySelector("textarea").focus();
            },
          },
          "Cancel the session…",
        ),
      ),
      slot,
    );
  }

  function stageActions() {
    const allowed = c.allowed_stages || [];
    if (!allowed.length) return null;
    const slot = h("div", { class: "action-form" });
    const buttons = allowed.map((stage) =>
      h(
        "button",
        {
          type: "button",
          "data-stage": stage,
          class: stage === "cancelled" ? "danger" : stage === "on_hold" ? "" : "primary",
          onclick: (e) => (["on_hold", "cancelled", "shipped"].includes(stage) ? openStageForm(stage, slot) : move(e.currentTarget, { stage }, slot)),
        },
        `${STAGE_LABELS[stage] || stage}${["on_hold", "cancelled", "shipped"].includes(stage) ? "…" : ""}`,
      ),
    );
    return h("section", { class: "card actions-card no-print", "aria-labelledby": "next-title" }, h("h2", { id: "next-title" }, "Move the case to"), h("div", { class: "actions" }, buttons), slot);
  }

  async function move(button, body, slot, form) {
    try {
      await busy(button, "Saving…", () => post(`cases/${c.id}/stage`, body));
      await reload(`Moved to ${STAGE_LABELS[body.stage]}.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (form) showErrors(form, error);
      else slot.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message));
    }
  }

  function openStageForm(stage, slot) {
    const form = h("form", { class: "form inline-card", novalidate: true }, formAlert());
    if (stage === "shipped") {
      form.append(
        h("p", {}, "How is the case shipped? The client sees the tracking number and link."),
        field("Carrier", { name: "carrier", required: true, placeholder: "UPS, FedEx, Canada Post…" }),
        field("Tracking number", { name: "tracking_number", required: true }),
        field("Tracking link (optional)", { name: "tracking_url", type: "url", placeholder: "https://" }),
      );
    } else {
      form.append(field(stage === "on_hold" ? "Why is the case on hold?" : "Why is the case cancelled?", { name: "reason", multiline: true, rows: "3", required: true }, { hint: "The client sees this." }));
    }
    const submit = h("button", { type: "submit", class: stage === "cancelled" ? "danger" : "primary" }, stage === "shipped" ? "Mark as shipped" : stage === "on_hold" ? "Put on hold" : "Cancel the case");
    form.append(h("div", { class: "actions" }, h("button", { type: "button", onclick: () => slot.replaceChildren() }, "Never mind"), submit));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      clearErrors(form);
      const data = formData(form);
      const body = { stage };
      for (const k of ["reason", "carrier", "tracking_number", "tracking_url"]) if (data[k]) body[k] = data[k];
      const missing = stage === "shipped" ? ["carrier", "tracking_number"].filter((k) => !data[k]) : data.reason ? [] : ["reason"];
      if (missing.length) {
        showErrors(form, new ApiError(422, { errors: missing.map((k) => ({ field: k, message: k === "reason" ? "Give the reason: the client sees it." : "Required to mark the case shipped." })) }));
        return;
      }
      move(submit, body, slot, form);
    });
    slot.replaceChildren(form);
    form.querySelector("input, textarea")?.focus();
  }

  // ------------------------------------------------------------- files and history
  function filesCard() {
    const panel = h("section", { class: "card", "aria-labelledby": "files-title" }, h("h2", { id: "files-title" }, "Files"), h("p", { role: "status" }, "Loading the files…"));
    get(`cases/${c.id}/files`).then(
      (listing) => {
        const table = (title, items, empty) =>
          h(
            "section",
            { "aria-label": title, class: "file-group" },
            h("h3", {}, title),
            items.length
              ? h(
                  "table",
                  { class: "list files" },
                  h("thead", {}, h("tr", {}, ["File", "Kind", "Size", "Added", ""].map((t) => h("th", { scope: "col" }, t)))),
                  h(
                    "tbody",
                    {},
                    items.map((f) =>
                      h(
                        "tr",
                        { "data-file-id": f.id },
                        h("td", {}, f.original_name || "(unnamed)"),
                        h("td", {}, f.kind.toUpperCase()),
                        h("td", {}, formatSize(f.size)),
                        h("td", {}, formatDate(f.uploaded_at, { time: true })),
                        h("td", { class: "row-actions" }, h("button", { type: "button", onclick: () => preview(f) }, "Preview"), h("a", { class: "button", href: `/api/v1/files/${f.id}/download`, download: f.original_name || "" }, "Download")),
                      ),
                    ),
                  ),
                )
              : h("p", { class: "empty" }, empty),
          );
        const open = !["shipped", "cancelled"].includes(c.stage);
        let add = null;
        if (open) {
          const files = picker({ existing: listing.ours.length + listing.theirs.length });
          const button = h("button", { type: "button", class: "primary" }, "Attach the files");
          button.addEventListener("click", () =>
            busy(button, "Uploading…", async () => {
              if (await files.uploadAll(c.id, "cases")) await reload("The files are attached.");
            }),
          );
          add = h("div", { class: "no-print" }, h("h3", {}, "Add files"), files.element, h("div", { class: "actions" }, button));
        }
        panel.replaceChildren(...[panel.firstChild, table("Sent by us", listing.ours, "Your office has not attached files."), table("Sent by them", listing.theirs, lab ? "The client has not attached files." : "The lab has not attached files."), add].filter(Boolean));
      },
      (error) => panel.append(h("p", { class: "form-alert", role: "alert" }, error.message)),
    );
    return panel;
  }

  function notesCard() {
    const ours = (n) => n.office_id === me.office.id;
    const list = h(
      "ol",
      { class: "notes" },
      notes.length
        ? notes.map((n) =>
            h(
              "li",
              { class: `note ${ours(n) ? "ours" : "theirs"}${n.new ? " is-new" : ""}` },
              h("div", { class: "note-head" }, h("strong", {}, n.author_name || (ours(n) ? "Your office" : lab ? c.client.name : c.lab.name) || "The other office"), h("span", { class: "muted" }, ` ${formatDate(n.at, { time: true })}`), n.new ? newBadge(1) : null),
              h("p", {}, n.body),
            ),
          )
        : [h("li", { class: "muted" }, "No notes yet.")],
    );
    const title = h("h2", { id: "notes-title" }, lab ? "Notes with the client" : "Notes with the lab");
    if (c.stage === "shipped" || c.stage === "cancelled") {
      return h("section", { class: "card", "aria-labelledby": "notes-title" }, title, list, h("p", { class: "hint" }, `The case is ${c.stage_label.toLowerCase()}: no more notes can be written.`));
    }
    const form = h(
      "form",
      { class: "form no-print", novalidate: true },
      formAlert(),
      field(lab ? "Write a note to the client" : "Write a note to the lab", { name: "body", multiline: true, rows: "3", required: true }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add the note")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const data = formData(form);
      if (!data.body) {
        showErrors(form, new ApiError(422, { detail: "Write the note first", errors: [{ field: "body", message: "Write the note first." }] }));
        return;
      }
      try {
        await busy(form.querySelector("button[type=submit]"), "Adding…", () => post(`cases/${c.id}/notes`, { body: data.body }, { idempotent: true }));
        await reload("Note added.");
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    });
    return h("section", { class: "card", "aria-labelledby": "notes-title" }, title, list, form);
  }

  function history() {
    const who = (id) => (id === c.client.id ? c.client.name : id === c.lab.id ? c.lab.name : "—");
    return h(
      "section",
      { class: "card", "aria-labelledby": "hist-title" },
      h("h2", { id: "hist-title" }, "Progress"),
      h(
        "ol",
        { class: "timeline case-history" },
        c.history.map((e) =>
          h(
            "li",
            {},
            h("strong", {}, STAGE_LABELS[e.stage] || e.stage),
            h("span", { class: "muted" }, ` ${formatDate(e.at, { time: true })} · ${who(e.by_office_id) || "—"}`),
            e.reason ? h("div", { class: "reason" }, `“${e.reason}”`) : null,
          ),
        ),
      ),
    );
  }

  const view = draw();
  // Notes are read once shown: the "New" markers stay on this view until it is reloaded.
  if (notes.some((n) => n.new)) await post(`cases/${c.id}/notes/read`).catch(() => {});
  return view;
}

/** Free slots grouped by day (in `zone`), one radio each, and a submit button. */
export function slotForm(slots, zone, submitLabel, book) {
  if (!slots.length) return h("p", { class: "empty" }, "No free times in the coming weeks. The lab publishes new ones regularly; please check again later or contact the lab.");
  const days = new Map();
  for (const s of slots) {
    const day = inZone(s.start, zone, { weekday: "long", month: "long", day: "numeric", year: "numeric" });
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(s);
  }
  const form = h(
    "form",
    { class: "form slot-form", novalidate: true },
    formAlert(),
    h(
      "div",
      { class: "slot-days", "data-field": "slot_id" },
      [...days.entries()].map(([day, items]) =>
        h(
          "fieldset",
          { class: "slot-day" },
          h("legend", {}, day),
          items.map((s) => {
            const text = `${inZone(s.start, zone, { hour: "numeric", minute: "2-digit" })}–${inZone(s.end, zone, { hour: "numeric", minute: "2-digit" })}`;
            return h("label", { class: "slot" }, h("input", { type: "radio", name: "slot_id", value: s.id, "data-start": s.start }), ` ${text}`, h("span", { class: "muted small" }, ` ${MODES[s.mode] || s.mode}`));
          }),
        ),
      ),
      h("p", { class: "field-error", hidden: true }),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submitLabel)),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const chosen = form.querySelector("input[name=slot_id]:checked");
    if (!chosen) {
      showErrors(form, new ApiError(422, { errors: [{ field: "slot_id", message: "Choose a time first." }] }));
      return;
    }
    try {
      await busy(form.querySelector("button[type=submit]"), "Booking…", () => book(chosen.value));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(form, error.errors.length ? error : new ApiError(error.status, { ...error.body, errors: [{ field: "slot_id", message: error.message }] }));
    }
  });
  return form;
}

/** The office's calendar subscription URL: created (shown once) or revoked. */
export function calendarFeed() {
  const out = h("div", { class: "calendar-feed", "aria-live": "polite" });
  const create = h(
    "button",
    {
      type: "button",
      onclick: async (e) => {
        const feed = await busy(e.currentTarget, "Creating…", () => post("calendar-feed"));
        out.replaceChildren(
          h(
            "div",
            { class: "notice secret" },
            h("p", {}, "Your office's calendar subscription URL. Add it to your calendar app (\"subscribe by URL\"). It is shown only now: copy it."),
            h("code", { class: "feed-url" }, feed.url),
          ),
        );
      },
    },
    "Create a calendar subscription URL",
  );
  const revoke = h(
    "button",
    {
      type: "button",
      class: "link-button",
      onclick: async (e) => {
        await busy(e.currentTarget, "Revoking…", () => del("calendar-feed"));
        out.replaceChildren(h("p", { role: "status" }, "The subscription URL is revoked: calendars using it stop updating."));
      },
    },
    "Revoke the subscription URL",
  );
  return h(
    "details",
    { class: "subscription" },
    h("summary", {}, "Calendar subscription for all your office's sessions"),
    h("p", { class: "hint" }, "A private link your calendar app follows to show every planning session of your office. Creating a new one replaces the old one."),
    h("div", { class: "actions" }, create, revoke),
    out,
  );
}
