// Small DOM helpers shared by the screens: elements, form fields, errors next to their field.

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

/** h("p", {class: "x", onclick: fn}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.setAttribute("class", value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "value" && !svg) el.value = value;
    else if (name === "checked" || name === "selected" || name === "disabled" || name === "hidden") {
      el[name] = Boolean(value);
      if (svg) el.setAttribute(name, "");
    } else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A labelled input with a place for its error: field("Office e-mail", {name: "email", type: "email"}) */
export function field(label, attrs = {}, { hint, control } = {}) {
  const id = attrs.id || nextId(attrs.name || "f");
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const { field: _place, multiline, ...inputAttrs } = attrs;
  const input =
    control ||
    h(multiline ? "textarea" : "input", {
      ...inputAttrs,
      type: multiline ? undefined : attrs.type || "text",
      id,
    });
  if (control) control.id = id;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: "field", dataset: { field: attrs.field || attrs.name || "" } },
    h("label", { for: id }, label, attrs.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    input,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

export function select(label, attrs, options, extra = {}) {
  const control = h(
    "select",
    { name: attrs.name, required: attrs.required },
    options.map(([value, text]) => h("option", { value, selected: String(value) === String(attrs.value ?? "") }, text)),
  );
  return field(label, attrs, { ...extra, control });
}

/** Plain-words form-level alert at the top of `form`, then field errors next to each field. */
export function showErrors(form, error, { prefix = "" } = {}) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const { field: name, message } of error.errors || []) {
    const place = findField(form, prefix ? name.replace(new RegExp(`^${prefix}\\.`), "") : name);
    if (!place) {
      unplaced.push(message);
      continue;
    }
    const p = place.querySelector(":scope > .field-error") || place.querySelector(".field-error");
    if (p) {
      p.textContent = p.hidden ? message : `${p.textContent} ${message}`;
      p.hidden = false;
    }
    place.classList.add("invalid");
    const input = place.querySelector("input, select, textarea, [tabindex]");
    if (input) input.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  const alert = form.querySelector(":scope > .form-alert") || form.querySelector(".form-alert");
  const summary = error.errors?.length ? (unplaced.length ? unplaced.join(" ") : "Please correct the fields marked below.") : error.message;
  if (alert) {
    alert.textContent = summary;
    alert.hidden = false;
  }
  (first || alert)?.focus?.();
}

function findField(form, name) {
  let candidate = name;
  while (candidate) {
    const found = form.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
    if (found) return found;
    const cut = candidate.lastIndexOf(".");
    if (cut < 0) break;
    candidate = candidate.slice(0, cut);
  }
  return null;
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) {
    p.hidden = true;
    p.textContent = "";
  }
  for (const f of form.querySelectorAll(".invalid")) f.classList.remove("invalid");
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  for (const a of form.querySelectorAll(".form-alert")) a.hidden = true;
}

export const formAlert = () => h("div", { class: "form-alert", role: "alert", tabindex: "-1", hidden: true });

/** Run `work` with the button busy (disabled, label changed); errors land in `form`. */
export async function busy(button, label, work) {
  const original = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = original;
  }
}

export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => (region.textContent = text), 30);
}

export const STAGE_LABELS = {
  draft: "Draft",
  sent: "Sent",
  accepted: "Accepted",
  declined: "Declined",
  forwarded: "Forwarded",
  contacted: "Patient contacted",
  booked: "Booked",
  completed: "Completed",
  closed: "Report sent back",
  cancelled: "Cancelled",
};

export const stageBadge = (stage) => h("span", { class: `badge stage-${stage}` }, STAGE_LABELS[stage] || stage);
export const newBadge = (count) =>
  h("span", { class: "badge new", title: `${count} new note${count === 1 ? "" : "s"}` }, "New", count > 1 ? ` (${count})` : "");

export function formatDate(value, { time = false } = {}) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return time
    ? date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })
    : date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** A date-only value ("1988-04-12") shown without time-zone shifts. */
export function formatDay(value) {
  if (!value) return "—";
  const [y, m, d] = String(value).split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined, { dateStyle: "medium" });
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formData(form) {
  const data = {};
  for (const [name, value] of new FormData(form).entries()) data[name] = typeof value === "string" ? value.trim() : value;
  return data;
}

/** An empty string becomes null (the API's "not given"). */
export const orNull = (value) => (value === undefined || value === "" ? null : value);

export function page(title, ...children) {
  return h("section", { class: "page" }, h("h1", { tabindex: "-1", class: "page-title" }, title), ...children);
}

export function passwordHints(input) {
  const rules = [
    [(p) => p.length >= 12, "At least 12 characters"],
    [(p) => /[A-Z]/.test(p), "An upper-case letter"],
    [(p) => /[a-z]/.test(p), "A lower-case letter"],
    [(p) => /[0-9]/.test(p), "A digit"],
  ];
  const items = rules.map(([, text]) => h("li", { class: "rule" }, text));
  const list = h("ul", { class: "password-rules", "aria-live": "polite" }, items, h("li", { class: "rule pending" }, "• Not a common password (checked when you submit)"));
  const update = () => {
    rules.forEach(([test, text], i) => {
      const ok = test(input.value);
      items[i].classList.toggle("ok", ok);
      items[i].textContent = `${ok ? "✓" : "•"} ${text}`;
      items[i].setAttribute("aria-label", `${text}: ${ok ? "met" : "not met yet"}`);
    });
  };
  input.addEventListener("input", update);
  update();
  return list;
}
