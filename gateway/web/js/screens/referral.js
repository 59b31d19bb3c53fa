// One referral: details, teeth on the chart in the viewer's notation, the stage timeline and
// actions, two-way notes, and the Patient Files tab (previews before download, add files).
import { ApiError, get, post } from "../api.js";
import { picker } from "../attachments.js";
import { parse as parseStl, viewer as stlViewer } from "../stl.js";
import { chart } from "../teeth.js";
import { patientMessages } from "./patient_talk.js";
import { busy, clearErrors, field, formAlert, formData, formatDate, formatDay, formatSize, h, newBadge, page, showErrors, stageBadge } from "../ui.js";

const CLOSED = new Set(["closed", "cancelled", "declined", "forwarded"]);
const ACTIONS = {
  accepted: { label: "Accept", primary: true },
  declined: { label: "Decline…", needs: "reason", prompt: "Why are you declining? The referring office sees this." },
  forwarded: { label: "Forward…", needs: "office", prompt: "Forward the patient to another office." },
  contacted: { label: "Patient contacted" },
  booked: { label: "Booked…", needs: "date", prompt: "When is the appointment?" },
  completed: { label: "Treatment completed" },
  closed: { label: "Report back…", needs: "report", prompt: "Your report to the referring office (optional). Attach documents in Patient Files." },
  cancelled: { label: "Cancel the referral…", needs: "reason", prompt: "Why is the referral cancelled? The receiving office sees this.", danger: true },
};
const SEX = { female: "Female", male: "Male", other: "Other", unknown: "Not given" };
const CONTACT = { phone: "Phone call", text: "Text message", email: "E-mail" };

function dl(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null || v === "" ? "—" : v)]));
}

export async function show({ params, me, render }) {
  let referral;
  try {
    referral = await get(`referrals/${params.id}`);
  } catch (error) {
    if (error.status === 404 || error.status === 422) return page("Referral not found", h("p", {}, "It does not exist, or it is not shared with your office. ", h("a", { href: "/dashboard" }, "Back to the dashboard")));
    throw error;
  }
  const mine = referral.sender.office.id === me.office.id;
  let tab = location.hash === "#files" ? "files" : "details";

  const draw = () => {
    const p = referral.patient;
    const name = `${p.first_name || ""} ${p.last_name || ""}`.trim() || "(no name)";
    const tabs = h(
      "div",
      { class: "tabs", role: "tablist", "aria-label": "Referral" },
      [["details", "Details"], ["files", "Patient Files"]].map(([value, text]) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            id: `tab-${value}`,
            class: `tab${tab === value ? " active" : ""}`,
            "aria-selected": String(tab === value),
            "aria-controls": `panel-${value}`,
            tabindex: tab === value ? "0" : "-1",
            onclick: () => {
              tab = value;
              history.replaceState(null, "", value === "files" ? "#files" : location.pathname);
              render(draw());
              document.getElementById(`tab-${value}`)?.focus();
            },
            onkeydown: (e) => {
              if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
                e.preventDefault();
                tabs.querySelector(`[aria-selected=false]`)?.click();
              }
            },
          },
          text,
        ),
      ),
    );
    const panel = h("div", { role: "tabpanel", id: `panel-${tab}`, "aria-labelledby": `tab-${tab}`, class: "tab-panel" });
    if (tab === "details") panel.append(...details());
    else filesPanel(panel);
    return page(
      name,
      h(
        "div",
        { class: "referral-head" },
        h("p", { class: "muted" }, `Reference ${referral.reference} · `, mine ? `Sent to ${referral.receiver?.office?.name || "—"}` : `From ${referral.sender.office.name}`),
        h("p", {}, stageBadge(referral.stage), referral.urgency !== "routine" ? h("span", { class: `badge urgency-${referral.urgency}` }, referral.urgency === "urgent" ? "Urgent" : "Soon") : null),
        h(
          "div",
          { class: "toolbar no-print" },
          referral.stage === "draft" && mine ? h("a", { class: "button primary", href: `/referrals/${referral.id}/edit` }, "Finish and send the draft") : null,
          h("a", { class: "button", href: `/api/v1/referrals/${referral.id}/pdf`, download: `referral-${referral.reference}.pdf` }, "Download the PDF"),
          h("button", { type: "button", onclick: () => window.print() }, "Print"),
        ),
      ),
      stageActions(),
      tabs,
      panel,
    );
  };

  const reload = async () => {
    referral = await get(`referrals/${referral.id}`);
    render(draw());
  };

  function stageActions() {
    const allowed = referral.allowed_stages || [];
    if (!allowed.length) return null;
    const slot = h("div", { class: "action-form" });
    const buttons = allowed
      .filter((stage) => ACTIONS[stage])
      .map((stage) => {
        const action = ACTIONS[stage];
        const label = stage === "booked" && referral.stage === "booked" ? "Change the appointment…" : action.label;
        return h(
          "button",
          {
            type: "button",
            class: action.primary ? "primary" : action.danger ? "danger" : "",
            "data-stage": stage,
            onclick: (e) => (action.needs ? openForm(stage, action, slot) : move(e.currentTarget, { stage }, slot)),
          },
          label,
        );
      });
    return h("section", { class: "card actions-card no-print", "aria-labelledby": "next-title" }, h("h2", { id: "next-title" }, mine ? "Your actions" : "Next step"), h("div", { class: "actions" }, buttons), slot);
  }

  async function move(button, body, slot, form) {
    const target = form || slot;
    try {
      await busy(button, "Saving…", () => post(`referrals/${referral.id}/stage`, body));
      await reload();
      document.querySelector("h1")?.focus();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (form) showErrors(form, error);
      else target.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message));
    }
  }

  async function openForm(stage, action, slot) {
    const form = h("form", { class: "form inline-card", novalidate: true }, formAlert(), h("p", {}, action.prompt));
    if (action.needs === "reason" || action.needs === "report") {
      form.append(field(action.needs === "report" ? "Report" : "Reason", { name: "reason", multiline: true, rows: "3", required: action.needs === "reason" }));
    } else if (action.needs === "date") {
      const current = referral.appointment_at ? new Date(referral.appointment_at) : null;
      const local = current ? new Date(current.getTime() - current.getTimezoneOffset() * 60000).toISOString().slice(0, 16) : "";
      form.append(field("Appointment date and time", { name: "appointment_at", type: "datetime-local", value: local, required: true }, { hint: "In your computer's time zone." }));
    } else if (action.needs === "office") {
      const entries = ((await get("directory", { q: "", limit: 50 })) || []).filter((e) => e.office.id !== me.office.id && e.office.id !== referral.sender.office.id);
      form.append(
        field("Forward to", { name: "forward_to_office_id", required: true }, {
          control: h("select", { name: "forward_to_office_id" }, h("option", { value: "" }, "Choose an office…"), entries.map((e) => h("option", { value: e.office.id }, `${e.office.name}${e.office.specialty ? ` (${e.office.specialty})` : ""}`))),
        }),
        field("Note (optional)", { name: "reason", multiline: true, rows: "2" }),
      );
    }
    const submit = h("button", { type: "submit", class: action.danger ? "danger" : "primary" }, action.label.replace("…", ""));
    form.append(h("div", { class: "actions" }, h("button", { type: "button", onclick: () => slot.replaceChildren() }, "Never mind"), submit));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      clearErrors(form);
      const data = formData(form);
      const body = { stage };
      if (data.reason) body.reason = data.reason;
      if (data.forward_to_office_id) body.forward_to_office_id = data.forward_to_office_id;
      if (action.needs === "date") {
        if (!data.appointment_at) {
          showErrors(form, new ApiError(422, { detail: "Choose the date", errors: [{ field: "appointment_at", message: "Choose the appointment's date and time." }] }));
          return;
        }
        body.appointment_at = new Date(data.appointment_at).toISOString();
      }
      move(submit, body, slot, form);
    });
    slot.replaceChildren(form);
    form.querySelector("input, textarea, select")?.focus();
  }

  function details() {
    const p = referral.patient;
    const party = (x) => (x ? [x.office.name, x.provider_name ? ` · ${x.provider_name}` : ""].join("") : "—");
    const procedures = [...referral.procedures.map((x) => x.name), referral.other_procedures].filter(Boolean).join(", ");
    const teeth = chart({ notation: referral.notation, selected: referral.teeth.map((t) => t.iso), readOnly: true, caption: "Teeth on this referral" });
    return [
      h(
        "div",
        { class: "grid-2" },
        h(
          "section",
          { class: "card", "aria-labelledby": "p-title" },
          h("h2", { id: "p-title" }, "Patient"),
          dl([
            ["Name", `${p.first_name || ""} ${p.last_name || ""}`.trim()],
            ["Date of birth", formatDay(p.date_of_birth)],
            ["Sex", SEX[p.sex] || null],
            ["Phone", p.phones.join(", ")],
            ["E-mail", p.email],
            ["Preferred contact", CONTACT[p.preferred_contact] || null],
            ["Insurance", p.insurance_note],
          ]),
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "r-title" },
          h("h2", { id: "r-title" }, "Referral"),
          dl([
            ["From", party(referral.sender)],
            ["To", party(referral.receiver)],
            ["Procedures", procedures],
            ["Sent", formatDate(referral.sent_at, { time: true })],
            ["Appointment", referral.appointment_at ? formatDate(referral.appointment_at, { time: true }) : null],
          ]),
        ),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "t-title" },
        h("h2", { id: "t-title" }, "Teeth"),
        teeth.element,
        h("h3", {}, "Case notes"),
        h("p", { class: "hint" }, "Written by the referring office. Tooth numbers typed here are as they wrote them, not converted."),
        h("p", { class: "case-notes" }, referral.case_notes || "—"),
      ),
      timeline(),
      notes(),
      referral.stage === "draft"
        ? null
        : patientMessages({
            ownerType: "referral",
            ownerId: referral.id,
            prefill: {
              patient_name: `${referral.patient.first_name || ""} ${referral.patient.last_name || ""}`.trim(),
              email: referral.patient.email || "",
              mobile_phone: referral.patient.phones?.[0] || "",
              date_of_birth: referral.patient.date_of_birth || "",
            },
          }),
    ];
  }

  function timeline() {
    const who = (id) => (id === referral.sender.office.id ? referral.sender.office.name : id === referral.receiver?.office?.id ? referral.receiver.office.name : "Another office");
    return h(
      "section",
      { class: "card", "aria-labelledby": "tl-title" },
      h("h2", { id: "tl-title" }, "Progress"),
      h(
        "ol",
        { class: "timeline" },
        referral.timeline.map((t) =>
          h(
            "li",
            { class: `tl-${t.stage}` },
            stageBadge(t.stage),
            h("span", {}, ` ${formatDate(t.at, { time: true })} · ${who(t.by_office_id)}`),
            t.appointment_at ? h("div", {}, `Appointment: ${formatDate(t.appointment_at, { time: true })}`) : null,
            t.reason ? h("div", { class: "reason" }, `“${t.reason}”`) : null,
          ),
        ),
      ),
    );
  }

  function notes() {
    const list = h(
      "ol",
      { class: "notes" },
      referral.notes.length
        ? referral.notes.map((n) =>
            h(
              "li",
              { class: `note ${n.office_id === me.office.id ? "ours" : "theirs"}${n.new ? " is-new" : ""}` },
              h("div", { class: "note-head" }, h("strong", {}, n.author_name || (n.office_id === me.office.id ? "Your office" : "The other office")), h("span", { class: "muted" }, ` ${formatDate(n.at, { time: true })}`), n.new ? newBadge(1) : null),
              h("p", {}, n.body),
            ),
          )
        : [h("li", { class: "muted" }, "No notes yet.")],
    );
    const form = h(
      "form",
      { class: "form no-print", novalidate: true },
      formAlert(),
      field("Write a note to the other office", { name: "body", multiline: true, rows: "3", required: true }, { hint: "Tooth numbers typed in notes are not converted to the other office's notation." }),
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
        await busy(form.querySelector("button[type=submit]"), "Adding…", () => post(`referrals/${referral.id}/notes`, { body: data.body }, { idempotent: true }));
        await reload();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    });
    return h("section", { class: "card", "aria-labelledby": "n-title" }, h("h2", { id: "n-title" }, "Notes between the offices"), list, form);
  }

  function filesPanel(panel) {
    panel.append(h("p", { role: "status" }, "Loading the files…"));
    get(`referrals/${referral.id}/files`).then(
      (listing) => {
        const section = (title, items, empty) =>
          h(
            "section",
            { class: "card", "aria-label": title },
            h("h2", {}, title),
            items.length
              ? h(
                  "table",
                  { class: "list files" },
                  h("thead", {}, h("tr", {}, ["File", "Kind", "Size", "Added", ""].map((t) => h("th", { scope: "col" }, t)))),
                  h("tbody", {}, items.map((f) => fileRow(f))),
                )
              : h("p", { class: "empty" }, empty),
          );
        const active = !CLOSED.has(referral.stage);
        const add = active ? addFiles(listing.ours.length + listing.theirs.length) : h("p", { class: "muted" }, "This referral is closed: no more files can be added.");
        panel.replaceChildren(
          section("Sent by us", listing.ours, "Your office has not attached files."),
          section("Sent by them", listing.theirs, "The other office has not attached files."),
          h("section", { class: "card no-print", "aria-labelledby": "add-title" }, h("h2", { id: "add-title" }, "Add attachments"), add),
        );
      },
      (error) => panel.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message)),
    );
  }

  function addFiles(count) {
    const files = picker({ existing: count });
    const button = h("button", { type: "button", class: "primary" }, "Attach the files");
    button.addEventListener("click", () =>
      busy(button, "Uploading…", async () => {
        if (await files.uploadAll(referral.id)) {
          tab = "files";
          render(draw());
        }
      }),
    );
    return h("div", {}, files.element, h("div", { class: "actions" }, button));
  }

  function fileRow(f) {
    return h(
      "tr",
      { "data-file-id": f.id },
      h("td", {}, f.original_name || "(unnamed)"),
      h("td", {}, f.kind.toUpperCase()),
      h("td", {}, formatSize(f.size)),
      h("td", {}, formatDate(f.uploaded_at, { time: true })),
      h(
        "td",
        { class: "row-actions" },
        h("button", { type: "button", onclick: () => preview(f) }, "Preview"),
        h("a", { class: "button", href: `/api/v1/files/${f.id}/download`, download: f.original_name || "" }, "Download"),
      ),
    );
  }

  const view = draw();
  // Notes are read once shown: the "New" markers stay on this view, and go from the dashboard.
  if (referral.notes.some((n) => n.new)) await post(`referrals/${referral.id}/notes/read`).catch(() => {});
  return view;
}

/** The preview dialog of one file (images, PDF first page, DICOM with its metadata, STL view). */
export async function preview(initial) {
  const dialog = h("dialog", { class: "preview", "aria-labelledby": "preview-title" });
  document.body.append(dialog);
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  const fill = async () => {
    const f = await get(`files/${initial.id}`);
    const meta = Object.entries(f.metadata || {}).filter(([k]) => !k.startsWith("_"));
    let view;
    if (f.preview_state === "ready") {
      const what = { pdf: "First page", dicom: "Image", stl: "Rendered view of the 3-D model", tiff: "First page", image: "Image" }[f.kind] || "Preview";
      view = h("figure", {}, h("img", { src: `/api/v1/files/${f.id}/preview`, alt: `${what} of ${f.original_name || "the file"}` }), h("figcaption", { class: "muted" }, what));
    } else if (f.preview_state === "pending") {
      view = h("p", { role: "status" }, "The preview is being prepared. ", h("button", { type: "button", onclick: fill }, "Check again"));
    } else {
      view = h("p", {}, "No preview can be shown for this file. You can still download it.");
    }
    const turn =
      f.kind === "stl"
        ? h(
            "p",
            {},
            h(
              "button",
              {
                type: "button",
                onclick: async (e) => {
                  const button = e.currentTarget;
                  button.disabled = true;
                  button.textContent = "Opening the model…";
                  try {
                    const response = await fetch(`/api/v1/files/${f.id}/download?disposition=inline`, { credentials: "same-origin" });
                    if (!response.ok) throw new Error("The model could not be opened.");
                    const triangles = parseStl(await response.arrayBuffer());
                    if (!triangles.length) throw new Error("The model has no triangles to show.");
                    const shown = stlViewer(triangles, `3-D model ${f.original_name || ""}`);
                    view.replaceWith(shown);
                    button.parentElement.remove();
                    shown.querySelector("canvas").focus();
                  } catch (error) {
                    button.parentElement.replaceChildren(h("span", { class: "field-error" }, error.message));
                  }
                },
              },
              "Turn the model in 3-D",
            ),
            h("span", { class: "hint" }, " Opens the file itself: it is recorded as a download."),
          )
        : null;
    dialog.replaceChildren(
      h("h2", { id: "preview-title" }, f.original_name || "File"),
      h("p", { class: "muted" }, `${f.kind.toUpperCase()} · ${formatSize(f.size)} · added ${formatDate(f.uploaded_at, { time: true })}`),
      view,
      turn,
      meta.length
        ? h(
            "details",
            { open: f.kind === "dicom" },
            h("summary", {}, f.kind === "dicom" ? "DICOM information" : "File information"),
            dl(meta.map(([k, v]) => [k.replace(/_/g, " "), typeof v === "object" ? JSON.stringify(v) : String(v)])),
          )
        : null,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: close }, "Close"),
        h("a", { class: "button primary", href: `/api/v1/files/${f.id}/download`, download: f.original_name || "" }, "Download"),
      ),
    );
  };
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault();
    close();
  });
  dialog.showModal();
  await fill();
  dialog.querySelector("button")?.focus();
}
