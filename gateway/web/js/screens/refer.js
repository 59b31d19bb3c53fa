// Refer a new patient (or finish a draft): receiving office, patient, providers, procedures,
// case notes, the tooth chart, attachments; Cancel, Save draft, Complete and Send.
import { ApiError, api, get, patch, post } from "../api.js";
import { picker } from "../attachments.js";
import { navigate } from "../router.js";
import * as session from "../session.js";
import { chart } from "../teeth.js";
import { busy, clearErrors, field, formAlert, formData, h, orNull, page, select, showErrors } from "../ui.js";

const SEX = [["", "Choose…"], ["female", "Female"], ["male", "Male"], ["other", "Other"], ["unknown", "Prefer not to say"]];
const URGENCY = [["routine", "Routine"], ["soon", "Soon (within 2 weeks)"], ["urgent", "Urgent"]];

function officeLine(office) {
  const city = office.address?.city;
  return [office.specialty, city].filter(Boolean).join(" · ");
}

export async function show({ params, me, render }) {
  const ownProviders = (await get("office/providers")) || [];
  let draft = null;
  if (params.id) {
    draft = await get(`referrals/${params.id}`);
    if (draft.stage !== "draft") return navigate(`/referrals/${draft.id}`, { replace: true });
  }
  let referralId = draft?.id || null;
  let createKey = crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
  let receiver = draft?.receiver?.office || null;
  const patient = draft?.patient || {};

  // --- receiving office ------------------------------------------------------
  const results = h("div", { class: "office-results", role: "radiogroup", "aria-label": "Offices" });
  const providerSlot = h("div");
  const procedureSlot = h("div");
  const chosenLine = h("p", { class: "chosen", "aria-live": "polite" });

  const drawReceiver = async () => {
    chosenLine.textContent = receiver ? `Referring to ${receiver.name}${officeLine(receiver) ? ` (${officeLine(receiver)})` : ""}.` : "No office chosen yet.";
    const providers = receiver?.providers || [];
    providerSlot.replaceChildren(
      select(
        "Requested provider",
        { name: "requested_provider_id", value: draft?.receiver?.provider_id || "" },
        [["", receiver ? "No preference" : "Choose the office first"], ...providers.map((p) => [p.id, p.display_name + (p.specialty ? ` (${p.specialty})` : "")])],
      ),
    );
    let procedures = [];
    if (receiver) procedures = (await get(`offices/${receiver.id}/procedures`)) || [];
    const chosen = new Set((draft?.procedures || []).map((p) => p.id));
    procedureSlot.replaceChildren(
      h(
        "fieldset",
        { "data-field": "procedure_ids" },
        h("legend", {}, "Procedures"),
        procedures.length
          ? h("div", { class: "checks" }, procedures.map((p) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "procedure_ids", value: p.id, checked: chosen.has(p.id) }), ` ${p.name}`)))
          : h("p", { class: "muted" }, receiver ? "This office lists no procedures: describe them below." : "Choose the office to see its procedures."),
        h("p", { class: "field-error", hidden: true }),
      ),
    );
  };

  const drawResults = (entries) => {
    results.replaceChildren(
      ...(entries.length
        ? entries.map(({ office, colleague }) => {
            const id = `office-${office.id}`;
            return h(
              "div",
              { class: `office-option${receiver?.id === office.id ? " chosen" : ""}` },
              h("input", {
                type: "radio",
                name: "receiver_office_id",
                id,
                value: office.id,
                checked: receiver?.id === office.id,
                onchange: () => {
                  receiver = office;
                  for (const el of results.querySelectorAll(".office-option")) el.classList.toggle("chosen", el.contains(document.getElementById(id)));
                  drawReceiver();
                },
              }),
              h(
                "label",
                { for: id },
                h("strong", {}, office.name || office.email),
                colleague ? h("span", { class: "badge colleague" }, "Colleague") : null,
                h("span", { class: "muted" }, ` ${officeLine(office)}`),
                office.providers?.length ? h("span", { class: "muted small block" }, office.providers.map((p) => p.display_name).join(", ")) : null,
              ),
            );
          })
        : [h("p", { class: "muted" }, "No office matches. Try a doctor's name, an office, a specialty or a city.")]),
    );
  };

  let searchTimer = null;
  const search = async (q) => {
    const entries = (await get("directory", { q, limit: 20 })) || [];
    drawResults(entries.filter((e) => e.office.id !== me.office.id));
  };
  const searchInput = h("input", {
    type: "search",
    id: "office-search",
    placeholder: "Doctor, office, specialty or city",
    autocomplete: "off",
    oninput: (e) => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => search(e.target.value.trim()), 250);
    },
    onkeydown: (e) => {
      if (e.key === "Enter") e.preventDefault();
    },
  });

  // --- the rest ----------------------------------------------------------------
  const teeth = chart({ notation: session.notation(), selected: (draft?.teeth || []).map((t) => t.iso), caption: "Teeth to treat" });
  const files = picker({ existing: draft?.file_ids?.length || 0 });
  const status = h("p", { class: "save-status", role: "status" });

  const form = h(
    "form",
    { class: "form referral-form", novalidate: true },
    formAlert(),
    h(
      "section",
      { class: "card", "aria-labelledby": "to-title" },
      h("h2", { id: "to-title" }, "1. Receiving office"),
      h(
        "div",
        { class: "field", "data-field": "receiver_office_id" },
        h("label", { for: "office-search" }, "Find an office"),
        h("p", { class: "hint", id: "office-search-hint" }, "Your colleagues are listed first. Search by doctor name, office, specialty or city."),
        searchInput,
        h("p", { class: "field-error", hidden: true }),
        results,
      ),
      chosenLine,
      h("div", { "data-field": "requested_provider_id" }, providerSlot),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "patient-title" },
      h("h2", { id: "patient-title" }, "2. Patient"),
      h(
        "div",
        { class: "row" },
        field("First name", { name: "first_name", field: "patient.first_name", value: patient.first_name || "", required: true, autocomplete: "off" }),
        field("Last name", { name: "last_name", field: "patient.last_name", value: patient.last_name || "", required: true, autocomplete: "off" }),
      ),
      h(
        "div",
        { class: "row" },
        field("Date of birth", { name: "date_of_birth", field: "patient.date_of_birth", type: "date", value: patient.date_of_birth || "", required: true }),
        select("Sex", { name: "sex", field: "patient.sex", value: patient.sex || "", required: true }, SEX),
      ),
      h(
        "div",
        { class: "row" },
        field("Phone", { name: "phone", field: "patient.phones", type: "tel", value: patient.phones?.[0] || "", autocomplete: "off" }),
        field("E-mail", { name: "patient_email", field: "patient.email", type: "email", value: patient.email || "", autocomplete: "off" }),
      ),
      h(
        "fieldset",
        { class: "inline", "data-field": "patient.preferred_contact" },
        h("legend", {}, "Preferred contact method"),
        [["phone", "Phone call"], ["text", "Text message"], ["email", "E-mail"]].map(([value, text]) =>
          h("label", { class: "check" }, h("input", { type: "radio", name: "preferred_contact", value, checked: patient.preferred_contact === value }), ` ${text}`),
        ),
        h("p", { class: "field-error", hidden: true }),
      ),
      field("Insurance (optional)", { name: "insurance_note", field: "patient.insurance_note", value: patient.insurance_note || "", multiline: true, rows: "2" }),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "case-title" },
      h("h2", { id: "case-title" }, "3. Referral"),
      h(
        "div",
        { class: "row" },
        select(
          "Referring provider",
          { name: "referring_provider_id", value: draft?.sender?.provider_id || (ownProviders.length === 1 ? ownProviders[0].id : ""), required: true },
          [["", "Choose…"], ...ownProviders.map((p) => [p.id, p.display_name])],
        ),
        select("Urgency", { name: "urgency", value: draft?.urgency || "routine" }, URGENCY),
      ),
      procedureSlot,
      field("Other procedures", { name: "other_procedures", value: draft?.other_procedures || "" }, { hint: "Anything not on the office's list." }),
      field("Case notes", { name: "case_notes", value: draft?.case_notes || "", multiline: true, rows: "5" }, {
        hint: "Tooth numbers typed here are not converted to the other office's notation. Select teeth on the chart below: those are shown to them in their own notation.",
      }),
      h("div", { class: "field", "data-field": "teeth" }, h("h3", {}, "Tooth chart"), teeth.element, h("p", { class: "field-error", hidden: true })),
    ),
    h("section", { class: "card", "aria-labelledby": "files-title" }, h("h2", { id: "files-title" }, "4. Attachments"), files.element),
    status,
    h(
      "div",
      { class: "actions sticky" },
      h("button", { type: "button", class: "secondary", onclick: () => navigate("/dashboard") }, "Cancel"),
      h("button", { type: "button", name: "save", onclick: (e) => submit(e.currentTarget, false) }, "Save draft"),
      h("button", { type: "submit", class: "primary", name: "send" }, "Complete and Send"),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit(form.querySelector("button[name=send]"), true);
  });

  function payload() {
    const data = formData(form);
    return {
      receiver_office_id: receiver?.id || null,
      requested_provider_id: orNull(data.requested_provider_id),
      referring_provider_id: orNull(data.referring_provider_id),
      patient: {
        first_name: orNull(data.first_name),
        last_name: orNull(data.last_name),
        date_of_birth: orNull(data.date_of_birth),
        sex: orNull(data.sex),
        phones: data.phone ? [data.phone] : [],
        email: orNull(data.patient_email),
        preferred_contact: orNull(data.preferred_contact),
        insurance_note: orNull(data.insurance_note),
      },
      procedure_ids: [...form.querySelectorAll("input[name=procedure_ids]:checked")].map((i) => i.value),
      other_procedures: orNull(data.other_procedures),
      urgency: data.urgency || "routine",
      teeth: [...teeth.selected],
      notation: "fdi",
      case_notes: orNull(data.case_notes),
    };
  }

  async function saveDraft() {
    if (referralId) return patch(`referrals/${referralId}`, payload());
    let created;
    try {
      created = await api("POST", "referrals", { body: payload(), query: { draft: "true" }, key: createKey });
    } catch (error) {
      // Refused: the next try is a new request. Lost on the way: the same key, so no duplicate.
      if (error.status !== 0) createKey = crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
      throw error;
    }
    referralId = created.id;
    history.replaceState(null, "", `/referrals/${referralId}/edit`);
    return created;
  }

  async function submit(button, send) {
    clearErrors(form);
    status.textContent = "";
    try {
      await busy(button, send ? "Sending…" : "Saving…", async () => {
        await saveDraft();
        const filesOk = await files.uploadAll(referralId);
        if (!filesOk) {
          status.textContent = send ? "The referral was saved as a draft but not sent: a file needs your attention." : "Draft saved, but a file could not be attached.";
          files.element.querySelector(".file-row.invalid button")?.focus();
          return;
        }
        if (!send) {
          status.textContent = `Draft saved at ${new Date().toLocaleTimeString()}.`;
          return;
        }
        const sent = await post(`referrals/${referralId}/send`);
        render(sentPage(sent));
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(form, error);
      if (referralId) status.textContent = "Saved as a draft. Correct the marked fields to send it.";
    }
  }

  await Promise.all([search(""), drawReceiver()]);
  return page(draft ? "Finish the referral" : "Refer a new patient", form);
}

function sentPage(referral) {
  return page(
    "Referral sent",
    h(
      "div",
      { class: "card success" },
      h("p", { class: "lead" }, `${referral.patient.first_name} ${referral.patient.last_name} was referred to ${referral.receiver?.office?.name || "the office"}.`),
      h("p", {}, "Reference ", h("strong", { class: "reference" }, referral.reference), ". They are notified now; you will see their answers and notes on your dashboard."),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button", href: "/referrals/new" }, "Refer another patient"),
        h("a", { class: "button primary", href: `/referrals/${referral.id}` }, "View the referral"),
        h("a", { class: "button", href: `/api/v1/referrals/${referral.id}/pdf`, download: `referral-${referral.reference}.pdf` }, "Download the PDF"),
      ),
    ),
  );
}
