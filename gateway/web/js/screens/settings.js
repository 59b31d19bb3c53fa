// Office settings: office information, providers, procedures, users and roles, invitations,
// API clients (the secret shown once), and the signed-in person's password.
import { ApiError, del, get, patch, post } from "../api.js";
import * as session from "../session.js";
import { busy, clearErrors, field, formAlert, formData, formatDate, h, orNull, page, passwordHints, select, showErrors } from "../ui.js";
import { notationChoice, officeFields, officePayload, providersEditor } from "./setup.js";
import { preferences as notificationPreferences } from "./notifications.js";

function formWith(onsubmit, children, submitText) {
  const f = h("form", { class: "form", novalidate: true }, formAlert(), ...children, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submitText)));
  const done = h("p", { role: "status", class: "save-status" });
  f.append(done);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(f);
    done.textContent = "";
    try {
      const message = await busy(f.querySelector("button[type=submit]"), "Saving…", () => onsubmit(formData(f), f));
      done.textContent = message || "Saved.";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(f, error);
    }
  });
  return f;
}

const section = (id, title, ...children) => h("section", { class: "card", id, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), ...children);

export async function show({ me, render }) {
  const admin = me.role === "admin";
  const [office, providers, procedures, users, invitations, clients] = await Promise.all([
    get("office"),
    get("office/providers"),
    get("office/procedures").catch(() => []),
    admin ? get("office/users") : [],
    admin ? get("invitations") : [],
    admin ? get("office/api-clients") : [],
  ]);
  const prefsSection = await notificationPreferences();
  const redraw = async () => render(await show({ me: await session.load({ fresh: true }), render }));

  const officeForm = formWith(
    async (data, f) => {
      await patch("office", {
        ...officePayload(data),
        notation: data.notation,
        accepts_referrals: f.querySelector("[name=accepts_referrals]").checked,
        requires_contact_method: f.querySelector("[name=requires_contact_method]").checked,
      });
      await session.load({ fresh: true });
      return "Office information saved.";
    },
    [
      ...officeFields(office),
      notationChoice(office.notation),
      h("div", { class: "field checkbox", "data-field": "accepts_referrals" }, h("input", { type: "checkbox", id: "accepts", name: "accepts_referrals", checked: office.accepts_referrals }), h("label", { for: "accepts" }, " We accept referrals from other offices (we are listed in the directory)")),
      h("div", { class: "field checkbox", "data-field": "requires_contact_method" }, h("input", { type: "checkbox", id: "requires-contact", name: "requires_contact_method", checked: office.requires_contact_method }), h("label", { for: "requires-contact" }, " Referrals to us must give the patient's preferred contact method")),
    ],
    "Save office information",
  );
  if (!admin) for (const el of officeForm.elements) el.disabled = true;

  const procedureList = h(
    "ul",
    { class: "plain-list" },
    procedures.length
      ? procedures.map((p) =>
          h("li", {}, p.name, admin ? h("button", { type: "button", class: "link-button", "aria-label": `Remove ${p.name}`, onclick: async (e) => { await busy(e.currentTarget, "Removing…", () => del(`office/procedures/${p.id}`)); redraw(); } }, "Remove") : null),
        )
      : [h("li", { class: "muted" }, "No procedures listed: offices referring to you describe them in words.")],
  );

  const userRows = users.map((u) =>
    h(
      "tr",
      {},
      h("td", {}, u.name || "—", h("div", { class: "muted small" }, u.email)),
      h(
        "td",
        {},
        u.id === me.user?.id
          ? `${u.role === "admin" ? "Admin" : "Staff"} (you)`
          : h(
              "select",
              {
                "aria-label": `Role of ${u.email}`,
                onchange: async (e) => {
                  try {
                    await patch(`office/users/${u.id}`, { role: e.target.value });
                  } catch (error) {
                    alertIn(e.target.closest("section"), error.message);
                  }
                },
              },
              ["admin", "staff"].map((r) => h("option", { value: r, selected: r === u.role }, r === "admin" ? "Admin" : "Staff")),
            ),
      ),
      h("td", {}, u.verified ? "Active" : "Not confirmed yet"),
      h(
        "td",
        {},
        u.id === me.user?.id
          ? null
          : h(
              "button",
              {
                type: "button",
                class: "link-button danger-text",
                onclick: async (e) => {
                  if (!confirm(`Remove ${u.email} from the office? They are signed out at once.`)) return;
                  await busy(e.currentTarget, "Removing…", () => del(`office/users/${u.id}`));
                  redraw();
                },
              },
              "Remove",
            ),
      ),
    ),
  );

  const secretSlot = h("div", { "aria-live": "polite" });
  return page(
    "Office settings",
    h(
      "nav",
      { class: "toc", "aria-label": "Sections" },
      [["office", "Office information"], ["providers", "Providers"], ["procedures", "Procedures"], ["users", "Users and roles"], ["invitations", "Invitations"], ["api-clients", "API clients"], ["notifications", "Notification e-mails"], ["password", "Your password"]].map(([id, t]) =>
        h("a", { href: `#${id}`, "data-external": "", onclick: (e) => { e.preventDefault(); document.getElementById(id)?.scrollIntoView(); document.getElementById(`${id}-title`)?.setAttribute("tabindex", "-1"); document.getElementById(`${id}-title`)?.focus(); } }, t),
      ),
    ),
    section("office", "Office information", admin ? null : h("p", { class: "muted" }, "Only your office's admin can change these."), officeForm),
    section("providers", "Providers", admin ? providersEditor(providers, null) : h("ul", { class: "plain-list" }, providers.map((p) => h("li", {}, p.display_name)))),
    section(
      "procedures",
      "Procedures",
      h("p", { class: "hint" }, "The procedures offices can choose when they refer a patient to you."),
      procedureList,
      admin ? formWith(async (data) => { await post("office/procedures", { name: data.name }); redraw(); return "Added."; }, [field("Procedure", { name: "name", required: true })], "Add procedure") : null,
    ),
    admin
      ? section(
          "users",
          "Users and roles",
          h("table", { class: "list" }, h("thead", {}, h("tr", {}, ["Person", "Role", "State", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, userRows)),
          h("h3", {}, "Invite someone from your office"),
          formWith(
            async (data) => {
              await post("office/users", { email: data.email, role: data.role }, { idempotent: true });
              setTimeout(redraw, 800);
              return `Invitation sent to ${data.email}.`;
            },
            [h("div", { class: "row" }, field("E-mail", { name: "email", type: "email", required: true }), select("Role", { name: "role", value: "staff" }, [["staff", "Staff"], ["admin", "Admin"]]))],
            "Send the invitation",
          ),
        )
      : null,
    admin
      ? section(
          "invitations",
          "Invitations",
          h("h3", {}, "Invite a colleague office"),
          h("p", { class: "hint" }, "Colleagues are listed first when you refer a patient."),
          formWith(
            async (data) => {
              await post("invitations", { email: data.email, message: orNull(data.message) }, { idempotent: true });
              setTimeout(redraw, 800);
              return `Invitation sent to ${data.email}.`;
            },
            [field("Their office e-mail", { name: "email", type: "email", required: true }), field("Message (optional)", { name: "message", multiline: true, rows: "2" })],
            "Invite",
          ),
          h("h3", {}, "Sent invitations"),
          invitations.length
            ? h(
                "table",
                { class: "list" },
                h("thead", {}, h("tr", {}, ["E-mail", "Kind", "State", "Expires", ""].map((t) => h("th", { scope: "col" }, t)))),
                h(
                  "tbody",
                  {},
                  invitations.map((i) =>
                    h(
                      "tr",
                      {},
                      h("td", {}, i.email),
                      h("td", {}, i.kind === "staff" ? `Staff (${i.role})` : "Colleague office"),
                      h("td", {}, i.status),
                      h("td", {}, formatDate(i.expires_at)),
                      h("td", {}, i.status === "pending" ? h("button", { type: "button", class: "link-button", onclick: async (e) => { await busy(e.currentTarget, "Withdrawing…", () => del(`invitations/${i.id}`)); redraw(); } }, "Withdraw") : null),
                    ),
                  ),
                ),
              )
            : h("p", { class: "muted" }, "No invitations yet."),
        )
      : null,
    admin
      ? section(
          "api-clients",
          "API clients",
          h("p", { class: "hint" }, "For your practice-management system to call Bridgework. The secret is shown once, when the client is created: store it safely."),
          clients.length
            ? h(
                "table",
                { class: "list" },
                h("thead", {}, h("tr", {}, ["Name", "Client id", "Created", "Last used", ""].map((t) => h("th", { scope: "col" }, t)))),
                h(
                  "tbody",
                  {},
                  clients.map((c) =>
                    h(
                      "tr",
                      {},
                      h("td", {}, c.name),
                      h("td", {}, h("code", {}, c.client_id)),
                      h("td", {}, formatDate(c.created_at)),
                      h("td", {}, c.revoked_at ? `Revoked ${formatDate(c.revoked_at)}` : formatDate(c.last_used_at)),
                      h("td", {}, c.revoked_at ? null : h("button", { type: "button", class: "link-button danger-text", onclick: async (e) => { if (!confirm(`Revoke ${c.name}? Systems using it stop working at once.`)) return; await busy(e.currentTarget, "Revoking…", () => del(`office/api-clients/${c.id}`)); redraw(); } }, "Revoke")),
                    ),
                  ),
                ),
              )
            : h("p", { class: "muted" }, "No API clients."),
          formWith(
            async (data, f) => {
              const created = await post("office/api-clients", { name: data.name }, { idempotent: true });
              f.reset();
              secretSlot.replaceChildren(
                h(
                  "div",
                  { class: "notice secret", role: "alert" },
                  h("p", {}, h("strong", {}, "Copy the secret now: it is not shown again.")),
                  h("p", {}, "Client id: ", h("code", { class: "client-id" }, created.client_id)),
                  h("p", {}, "Secret: ", h("code", { class: "client-secret" }, created.client_secret)),
                  h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(created.client_secret) }, "Copy the secret"),
                  h("button", { type: "button", class: "link-button", onclick: redraw }, "I have stored it"),
                ),
              );
              return "API client created.";
            },
            [field("Name", { name: "name", required: true }, { hint: "e.g. Front desk PMS" })],
            "Create API client",
          ),
          secretSlot,
        )
      : null,
    prefsSection,
    section(
      "password",
      "Your password",
      formWith(
        async (data, f) => {
          await post("me/password", { current_password: data.current_password, new_password: data.new_password });
          f.reset();
          return "Password changed.";
        },
        [
          field("Current password", { name: "current_password", type: "password", autocomplete: "current-password", required: true }),
          (() => {
            const wrapper = field("New password", { name: "new_password", type: "password", autocomplete: "new-password", required: true });
            wrapper.append(passwordHints(wrapper.querySelector("input")));
            return wrapper;
          })(),
        ],
        "Change the password",
      ),
    ),
  );
}

function alertIn(container, message) {
  const p = h("p", { class: "form-alert", role: "alert" }, message);
  container.prepend(p);
  setTimeout(() => p.remove(), 6000);
}
