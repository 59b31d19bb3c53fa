// A new lab case (the client): lab, patient, prescription, teeth, requested due date and
// files; then the printable confirmation page.
import { ApiError, get, post } from "../api.js";
import { picker } from "../attachments.js";
import { navigate } from "../router.js";
import * as session from "../session.js";
import { chart, label as toothLabel } from "../teeth.js";
import { busy, clearErrors, field, formAlert, formData, formatDay, h, orNull, page, showErrors } from "../ui.js";

export async function show({ me }) {
  if (me.office.kind === "lab") {
    return page("Send a new case", h("p", {}, "A lab receives cases: it does not send them. ", h("a", { href: "/cases" }, "Your cases")));
  }
  const labs = ((await get("directory", { kind: "lab", limit: 100 })) || []).filter((e) => e.office.id !== me.office.id);
  const teeth = chart({ notation: session.notation(), caption: "Teeth of the case" });
  const files = picker({ label: "Files" });
  const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  let created = null;

  const labSelect = h(
    "select",
    { name: "lab_office_id", required: true },
    h("option", { value: "" }, labs.length ? "Choose a lab…" : "No lab has joined Bridgework yet"),
    labs.map((e) => h("option", { value: e.office.id }, `${e.office.name}${e.office.address?.city ? ` (${e.office.address.city})` : ""}`)),
  );
  const today = new Date();
  const minDay = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
  const form = h(
    "form",
    { class: "form", novalidate: true },
    formAlert(),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Lab and patient"),
      field("Lab", { name: "lab_office_id", field: "lab_office_id", required: true }, { control: labSelect, hint: "Dental labs on Bridgework." }),
      field("Patient's name", { name: "patient_name", required: true, autocomplete: "off" }),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Prescription"),
      field("Description", { name: "description", multiline: true, rows: "5", required: true }, { hint: "What the lab should make: printed on the RX script. Tooth numbers typed here are not converted to the lab's notation; select teeth on the chart." }),
      h("div", { class: "field", "data-field": "teeth" }, h("h3", {}, "Tooth chart"), teeth.element, h("p", { class: "field-error", hidden: true })),
      field("Requested due date", { name: "due_date", type: "date", min: minDay }, { hint: "Optional. The lab estimates the ship date from its turnaround." }),
    ),
    h("section", { class: "card" }, h("h2", {}, "Files"), h("p", { class: "hint" }, "CBCT scans, model scans (STL), photos. The lab starts once the first file arrives."), files.element),
    h("div", { class: "actions sticky" }, h("a", { class: "button", href: "/cases" }, "Cancel"), h("button", { type: "submit", class: "primary" }, "Send the case")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const data = formData(form);
    const submit = form.querySelector("button[type=submit]");
    try {
      await busy(submit, "Sending…", async () => {
        if (!created) {
          created = await post(
            "cases",
            {
              lab_office_id: orNull(data.lab_office_id) || "",
              patient_name: data.patient_name,
              description: data.description,
              teeth: [...teeth.selected],
              notation: "fdi",
              due_date: orNull(data.due_date),
            },
            { key },
          );
        }
        if (await files.uploadAll(created.case.id, "cases")) {
          navigate(`/cases/${created.case.id}/confirmation`);
        } else {
          submit.textContent = "Try the files again";
          const alert = form.querySelector(".form-alert");
          alert.textContent = `The case ${created.case.reference} was sent, but a file could not be attached: see the reason next to it. Remove it or choose another file and try again, or add files later on the case.`;
          alert.hidden = false;
        }
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (!data.lab_office_id && !error.errors.some((x) => x.field === "lab_office_id")) error.errors.push({ field: "lab_office_id", message: "Choose the lab." });
      showErrors(form, mapLab(error));
    }
  });
  return page("Send a new case", h("p", { class: "lead" }, "Send a case to a dental lab: they see the prescription, the teeth in their own notation and the files."), form);
}

/** "lab_office_id: Input should be a valid UUID" for an unchosen lab reads as "Choose the lab." */
function mapLab(error) {
  error.errors = error.errors.map((x) => (x.field === "lab_office_id" && /uuid|choose one/i.test(x.message) ? { ...x, message: "Choose the lab." } : x));
  return error;
}

/** The printable confirmation: case ID, summary, link, Print. */
export async function confirmation({ params }) {
  const c = await get(`cases/${params.id}`);
  const link = new URL(`/cases/${c.id}`, location.origin).href;
  return page(
    "Case sent",
    h(
      "div",
      { class: "card confirmation" },
      h("p", { class: "lead" }, `Case ${c.reference} was sent to ${c.lab.name || "the lab"}.`),
      h("p", {}, "Case ID ", h("strong", { class: "reference case-reference" }, c.reference)),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Patient"),
        h("dd", {}, c.patient_name),
        h("dt", {}, "Lab"),
        h("dd", {}, c.lab.name || "—"),
        h("dt", {}, "Sent by"),
        h("dd", {}, c.client.name || "—"),
        h("dt", {}, "Description"),
        h("dd", { class: "case-notes" }, c.description),
        h("dt", {}, `Teeth (${c.notation === "fdi" ? "FDI" : c.notation === "palmer" ? "Palmer" : "Universal"})`),
        h("dd", {}, c.teeth.map((t) => t.label || toothLabel(t.iso, c.notation)).join(", ") || "—"),
        h("dt", {}, "Requested due date"),
        h("dd", {}, c.due_date ? formatDay(c.due_date) : "—"),
        h("dt", {}, "Stage"),
        h("dd", {}, c.stage_label),
        h("dt", {}, "Link"),
        h("dd", {}, h("a", { href: `/cases/${c.id}`, class: "case-link" }, link)),
      ),
    ),
    h(
      "div",
      { class: "toolbar no-print" },
      h("button", { type: "button", class: "primary", onclick: () => window.print() }, "Print"),
      h("a", { class: "button", href: `/api/v1/cases/${c.id}/rx.pdf`, target: "_blank", rel: "noopener" }, "Open the RX script (PDF)"),
      h("a", { class: "button", href: `/cases/${c.id}` }, "View the case"),
      h("a", { class: "button", href: "/cases/new" }, "Send another case"),
    ),
  );
}
