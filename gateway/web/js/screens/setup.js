// The one-time setup: office information, providers, tooth notation, Terms of Use.
import { ApiError, del, get, patch, post } from "../api.js";
import { navigate } from "../router.js";
import * as session from "../session.js";
import { busy, clearErrors, field, formAlert, formData, h, orNull, page, select, showErrors } from "../ui.js";

export const KINDS = [
  ["general_practice", "General practice"],
  ["specialist", "Specialist practice"],
  ["lab", "Dental lab"],
];

const ZONES = [
  "America/St_Johns", "America/Halifax", "America/Toronto", "America/New_York", "America/Chicago",
  "America/Winnipeg", "America/Denver", "America/Edmonton", "America/Phoenix", "America/Los_Angeles",
  "America/Vancouver", "America/Anchorage", "Pacific/Honolulu", "Europe/London", "Europe/Paris", "UTC",
];

export const NOTATIONS = {
  universal: {
    name: "Universal",
    text: "Used in the United States and Canada. Permanent teeth are numbered 1 to 32 starting at the upper right third molar; primary teeth are lettered A to T.",
    example: "Upper right first molar: 3",
  },
  fdi: {
    name: "FDI (ISO 3950)",
    text: "Used internationally. Two digits: the quadrant (1–4 permanent, 5–8 primary), then the tooth's place from the midline.",
    example: "Upper right first molar: 16",
  },
  palmer: {
    name: "Palmer",
    text: "Used in the UK and by many orthodontists. The tooth's place from the midline (1–8, or A–E for primary teeth) inside a bracket showing the quadrant.",
    example: "Upper right first molar: 6⏌",
  },
};

/** The office-information fields (shared with Office settings). */
export function officeFields(office) {
  const address = office.address || {};
  const zone = office.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = ZONES.includes(zone) ? ZONES : [zone, ...ZONES];
  return [
    field("Office name", { name: "name", value: office.name || "", required: true, autocomplete: "organization" }),
    select("Kind of office", { name: "kind", value: office.kind, required: true }, KINDS),
    field("Specialty", { name: "specialty", value: office.specialty || "" }, { hint: "For specialists, e.g. Oral surgery, Endodontics, Orthodontics." }),
    field("Office e-mail", { name: "email", type: "email", value: office.email || "", required: true }),
    field("Main phone", { name: "phone", type: "tel", value: office.phone || "", required: true }),
    h(
      "fieldset",
      { class: "address", "data-field": "address" },
      h("legend", {}, "Address"),
      h("p", { class: "field-error", hidden: true }),
      field("Street", { name: "street", field: "address.street", value: address.street || "", required: true, autocomplete: "street-address" }),
      h(
        "div",
        { class: "row" },
        field("City", { name: "city", field: "address.city", value: address.city || "", required: true, autocomplete: "address-level2" }),
        field("Province or state", { name: "region", field: "address.region", value: address.region || "", required: true, autocomplete: "address-level1" }),
      ),
      h(
        "div",
        { class: "row" },
        field("Postal code", { name: "postal_code", field: "address.postal_code", value: address.postal_code || "", required: true, autocomplete: "postal-code" }),
        field("Country (2 letters)", { name: "country", field: "address.country", value: address.country || "CA", required: true, maxlength: "2", autocomplete: "country" }),
      ),
    ),
    select("Time zone", { name: "time_zone", value: zone, required: true }, zones.map((z) => [z, z.replace(/_/g, " ")])),
  ];
}

export function officePayload(data) {
  return {
    name: orNull(data.name),
    kind: data.kind,
    specialty: orNull(data.specialty),
    email: orNull(data.email),
    phone: orNull(data.phone),
    address: {
      street: data.street,
      city: data.city,
      region: data.region,
      postal_code: data.postal_code,
      country: (data.country || "").toUpperCase(),
    },
    time_zone: data.time_zone,
  };
}

export function notationChoice(current) {
  return h(
    "fieldset",
    { class: "notation-choice", "data-field": "notation" },
    h("legend", {}, "Preferred tooth notation"),
    h("p", { class: "hint" }, "Teeth are always shown to each office in its own notation: a referral you send in Universal reaches an FDI office in FDI."),
    Object.entries(NOTATIONS).map(([value, info]) => {
      const id = `notation-${value}`;
      return h(
        "div",
        { class: "radio-card" },
        h("input", { type: "radio", name: "notation", value, id, checked: value === current, "aria-describedby": `${id}-text` }),
        h("label", { for: id }, h("strong", {}, info.name), h("span", { id: `${id}-text`, class: "muted" }, ` ${info.text} ${info.example}.`)),
      );
    }),
    h("p", { class: "field-error", hidden: true }),
  );
}

/** Providers: list with remove, and an add form. `onChange` after each change. */
export function providersEditor(providers, onChange) {
  const list = h("ul", { class: "plain-list", "aria-label": "Providers" });
  const draw = () =>
    list.replaceChildren(
      ...(providers.length
        ? providers.map((p) =>
            h(
              "li",
              {},
              h("span", {}, p.display_name, p.specialty ? h("span", { class: "muted" }, ` · ${p.specialty}`) : null),
              h(
                "button",
                {
                  type: "button",
                  class: "link-button",
                  "aria-label": `Remove ${p.display_name}`,
                  onclick: async (event) => {
                    await busy(event.currentTarget, "Removing…", () => del(`office/providers/${p.id}`));
                    providers.splice(providers.indexOf(p), 1);
                    draw();
                    onChange?.();
                  },
                },
                "Remove",
              ),
            ),
          )
        : [h("li", { class: "muted" }, "No providers yet.")]),
    );
  draw();
  const add = h(
    "form",
    { class: "inline-form", novalidate: true, "aria-label": "Add a provider" },
    formAlert(),
    field("Display name", { name: "display_name", required: true }, { hint: "As patients and other offices should see it, e.g. Dr. Amara Okafor." }),
    field("Specialty (optional)", { name: "specialty" }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add provider")),
  );
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(add);
    const data = formData(add);
    try {
      const created = await busy(add.querySelector("button[type=submit]"), "Adding…", () =>
        post("office/providers", { display_name: data.display_name, specialty: orNull(data.specialty) }, { idempotent: true }),
      );
      providers.push(created);
      add.reset();
      draw();
      onChange?.();
      add.querySelector("input").focus();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(add, error);
    }
  });
  return h("div", { class: "providers" }, list, add);
}

const STEPS = ["Office information", "Providers", "Tooth notation", "Terms of Use"];

export async function wizard({ me, query, render }) {
  if (!me) return navigate("/login", { replace: true });
  if (me.role !== "admin") return page("Setup", h("p", {}, "Your office's admin finishes the setup. Please ask them."));
  let step = Number(query.get("step") || 0);
  let office = await get("office");
  const providers = (await get("office/providers")) || [];
  if (!query.get("step") && office.setup.office_complete) step = providers.length ? 2 : 1;

  const stepper = () =>
    h(
      "ol",
      { class: "stepper", "aria-label": "Setup steps" },
      STEPS.map((name, i) => h("li", { class: i === step ? "current" : i < step ? "done" : "", "aria-current": i === step ? "step" : null }, h("span", { class: "num" }, String(i + 1)), ` ${name}`)),
    );

  const go = (next) => {
    step = next;
    history.replaceState(null, "", `/setup?step=${step}`);
    render(draw());
  };

  const stepForm = (onsubmit, children, { back = true, submit = "Save and continue" } = {}) => {
    const f = h(
      "form",
      { class: "card form", novalidate: true },
      formAlert(),
      ...children,
      h(
        "div",
        { class: "actions" },
        back && step > 0 ? h("button", { type: "button", onclick: () => go(step - 1) }, "Back") : null,
        h("button", { type: "submit", class: "primary" }, submit),
      ),
    );
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(f);
      try {
        await busy(f.querySelector("button[type=submit]"), "Saving…", () => onsubmit(formData(f), f));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(f, error);
      }
    });
    return f;
  };

  const draw = () => {
    let body;
    if (step === 0) {
      body = stepForm(async (data) => {
        office = await patch("office", officePayload(data));
        go(1);
      }, officeFields(office));
    } else if (step === 1) {
      const note = h("p", { class: "field-error", role: "alert", hidden: true }, "Add at least one provider: referrals name who refers and who treats.");
      body = h(
        "div",
        { class: "card" },
        h("p", {}, "The dentists and specialists of your office, with the name other offices will see."),
        providersEditor(providers, () => (note.hidden = true)),
        note,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", onclick: () => go(0) }, "Back"),
          h(
            "button",
            {
              type: "button",
              class: "primary",
              onclick: () => {
                if (!providers.length) {
                  note.hidden = false;
                  return;
                }
                go(2);
              },
            },
            "Continue",
          ),
        ),
      );
    } else if (step === 2) {
      body = stepForm(async (data) => {
        office = await patch("office", { notation: data.notation || office.notation });
        go(3);
      }, [notationChoice(office.notation)]);
    } else {
      body = stepForm(
        async (_data, f) => {
          if (!f.querySelector("[name=agree]").checked) {
            throw new ApiError(422, { detail: "Please accept the Terms of Use", errors: [{ field: "agree", message: "Tick the box to accept the Terms of Use." }] });
          }
          office = await post("office/terms", { version: office.setup.terms_version });
          await session.load({ fresh: true });
          navigate("/dashboard");
        },
        [
          h(
            "div",
            { class: "terms", tabindex: "0", role: "region", "aria-label": "Terms of Use" },
            h("h2", {}, `Terms of Use (version ${office.setup.terms_version})`),
            h("p", {}, "Bridgework carries referrals, lab cases and patient files between the offices that take part in a patient's care. Your office is responsible for the accuracy of what it sends and for having the patient's consent to share it."),
            h("p", {}, "Only the two offices of a referral or case can see it. Every file download is recorded. Keep your password private and remove people who leave your office."),
            h("p", {}, "Patient information is kept encrypted and is never used for anything but the care you arrange through Bridgework."),
          ),
          h("div", { class: "field checkbox", "data-field": "agree" }, h("input", { type: "checkbox", name: "agree", id: "agree" }), h("label", { for: "agree" }, " I have read and accept the Terms of Use for my office"), h("p", { class: "field-error", hidden: true })),
        ],
        { submit: "Accept and finish" },
      );
    }
    return page("Set up your office", h("p", { class: "lead" }, "A few details before your first referral. You can change them later in Office settings."), stepper(), h("h2", {}, `Step ${step + 1} of ${STEPS.length}: ${STEPS[step]}`), body);
  };
  return draw();
}
