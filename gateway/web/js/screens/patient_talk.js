// Patient messages (Patient Talk) on a referral or a case: a private thread with the patient,
// who reads and answers on their own page after confirming their date of birth.
import { ApiError, get, post } from "../api.js";
import { busy, clearErrors, field, formAlert, formData, formatDate, h, orNull, showErrors } from "../ui.js";

const ACCESS = {
  opened: "Link opened",
  link_refused: "An expired or withdrawn link was used",
  verify_ok: "Date of birth confirmed",
  verify_failed: "Wrong date of birth",
  verify_refused: "Refused after too many tries",
  read: "Messages read",
  replied: "Patient replied",
  signed_out: "Patient signed out",
};

/**
 * The "Patient messages" card. ownerType: "referral" | "case"; prefill: {patient_name, email,
 * mobile_phone, date_of_birth} from the referral's or case's patient.
 */
export function patientMessages({ ownerType, ownerId, prefill = {} }) {
  const body = h("div", {}, h("p", { role: "status" }, "Loading the patient messages…"));
  const card = h(
    "section",
    { class: "card patient-talk no-print", "aria-labelledby": `pt-title-${ownerId}` },
    h("h2", { id: `pt-title-${ownerId}` }, "Patient messages"),
    h("p", { class: "hint" }, "A private conversation with the patient: they get a link by e-mail (or text) and confirm their date of birth before reading. Links last a few days and can be withdrawn at any time."),
    body,
  );

  const load = async () => {
    let threads;
    try {
      threads = await get("patient-threads", { owner_type: ownerType, owner_id: ownerId });
    } catch (error) {
      body.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message));
      return;
    }
    if (!threads.length) {
      const start = h(
        "button",
        {
          type: "button",
          onclick: () => {
            const form = startForm();
            start.replaceWith(form);
            form.querySelector("textarea")?.focus();
          },
        },
        "Write to the patient…",
      );
      body.replaceChildren(h("p", { class: "empty" }, "No messages with the patient yet."), start);
      return;
    }
    const details = await Promise.all(threads.map((t) => get(`patient-threads/${t.id}`)));
    body.replaceChildren(...details.map(threadView));
  };

  function startForm() {
    const form = h(
      "form",
      { class: "form inline-card", novalidate: true, "aria-label": "Start a conversation with the patient" },
      formAlert(),
      h("h3", {}, "Start a conversation with the patient"),
      h(
        "div",
        { class: "row" },
        field("Patient's name", { name: "patient_name", value: prefill.patient_name || "", required: true }),
        field("Patient's date of birth", { name: "date_of_birth", type: "date", value: prefill.date_of_birth || "", required: true }, { hint: "The patient confirms it before reading." }),
      ),
      h(
        "div",
        { class: "row" },
        field("Patient's e-mail", { name: "email", type: "email", value: prefill.email || "" }),
        field("Patient's mobile phone", { name: "mobile_phone", type: "tel", value: prefill.mobile_phone || "" }),
      ),
      h(
        "fieldset",
        { class: "inline", "data-field": "preferred_channel" },
        h("legend", {}, "Send the link by"),
        h("label", { class: "check" }, h("input", { type: "radio", name: "preferred_channel", value: "email", checked: true }), " E-mail"),
        h("label", { class: "check" }, h("input", { type: "radio", name: "preferred_channel", value: "text" }), " Text message"),
        h("p", { class: "field-error", hidden: true }),
      ),
      field("First message", { name: "body", multiline: true, rows: "3", required: true }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Send to the patient")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const data = formData(form);
      if (!data.body) {
        showErrors(form, new ApiError(422, { errors: [{ field: "body", message: "Write the message first." }] }));
        return;
      }
      try {
        await busy(form.querySelector("button[type=submit]"), "Sending…", async () => {
          const thread = await post(
            "patient-threads",
            {
              owner_type: ownerType,
              owner_id: ownerId,
              patient_name: data.patient_name,
              email: orNull(data.email),
              mobile_phone: orNull(data.mobile_phone),
              date_of_birth: orNull(data.date_of_birth),
              preferred_channel: data.preferred_channel || "email",
            },
            { idempotent: true },
          );
          await post(`patient-threads/${thread.id}/messages`, { body: data.body }, { idempotent: true });
        });
        await load();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    });
    return form;
  }

  function threadView(thread) {
    const active = thread.links.filter((l) => l.active);
    const list = h(
      "ol",
      { class: "notes" },
      thread.messages.map((m) =>
        h(
          "li",
          { class: `note ${m.author === "office" ? "ours" : "theirs"}` },
          h("div", { class: "note-head" }, h("strong", {}, m.author === "office" ? "Your office" : thread.patient_name), h("span", { class: "muted" }, ` ${formatDate(m.at, { time: true })}`)),
          h("p", {}, m.body),
        ),
      ),
    );
    const form = h(
      "form",
      { class: "form", novalidate: true },
      formAlert(),
      field(`Write to ${thread.patient_name}`, { name: "body", multiline: true, rows: "3", required: true }, { hint: "The patient gets a fresh link to read it." }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Send the message")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const data = formData(form);
      if (!data.body) {
        showErrors(form, new ApiError(422, { errors: [{ field: "body", message: "Write the message first." }] }));
        return;
      }
      try {
        await busy(form.querySelector("button[type=submit]"), "Sending…", () => post(`patient-threads/${thread.id}/messages`, { body: data.body }, { idempotent: true }));
        await load();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    });
    const status = h("p", { role: "status", class: "muted" });
    const revoke = h(
      "button",
      {
        type: "button",
        disabled: !active.length,
        onclick: async (e) => {
          const result = await busy(e.currentTarget, "Withdrawing…", () => post(`patient-threads/${thread.id}/links/revoke`));
          await load();
          card.querySelector(".patient-thread [role=status]").textContent = `${result.revoked} link${result.revoked === 1 ? "" : "s"} withdrawn.`;
        },
      },
      "Withdraw the patient's links",
    );
    const access = h("details", { class: "access" }, h("summary", {}, "Access record"), h("p", { class: "muted" }, "Loading…"));
    access.addEventListener("toggle", async () => {
      if (!access.open || access.dataset.loaded) return;
      access.dataset.loaded = "1";
      try {
        const entries = await get(`patient-threads/${thread.id}/access`);
        access.replaceChildren(
          access.firstChild,
          entries.length
            ? h("ul", { class: "plain-list" }, entries.map((a) => h("li", {}, h("span", {}, ACCESS[a.action] || a.action), h("span", { class: "muted" }, `${formatDate(a.at, { time: true })}${a.ip ? ` · ${a.ip}` : ""}`))))
            : h("p", { class: "empty" }, "The patient has not opened a link yet."),
        );
      } catch (error) {
        access.replaceChildren(access.firstChild, h("p", { class: "form-alert", role: "alert" }, error.message));
      }
    });
    return h(
      "div",
      { class: "patient-thread", "data-thread": thread.id },
      h("p", {}, h("strong", {}, thread.patient_name), h("span", { class: "muted" }, ` · ${thread.preferred_channel === "text" ? thread.mobile_phone || "" : thread.email || ""} · ${active.length} active link${active.length === 1 ? "" : "s"}`)),
      list.children.length ? list : h("p", { class: "empty" }, "No messages yet."),
      form,
      h("div", { class: "actions" }, revoke, status),
      access,
    );
  }

  load();
  return card;
}
