// The notifications bell in the header (unread count, the feed, mark read) and the e-mail
// preferences of office settings.
import { ApiError, api, get, post } from "../api.js";
import { navigate } from "../router.js";
import { busy, formatDate, h } from "../ui.js";

const POLL_MS = 30_000;
let timer = null;
let unread = 0;
let badge = null;
let button = null;
let panel = null;

const BELL_PATH = "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z";

function drawCount(count) {
  unread = count;
  if (!badge || !button) return;
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count === 0;
  button.setAttribute("aria-label", `Notifications, ${count} unread`);
}

/** Ask the API for the unread count (quietly: a failed poll keeps the last count). */
document.addEventListener("visibilitychange", () => timer && !document.hidden && refresh());

export async function refresh() {
  if (document.hidden && timer) return; // a background tab asks again when it is shown
  try {
    const page = await get("notifications", { unread_only: "true", page_size: 1 });
    drawCount(page.unread_count);
  } catch {
    /* offline or signed out: the next poll tries again */
  }
}

/** Stop polling (signed out). */
export function stop() {
  clearInterval(timer);
  timer = null;
  closePanel();
}

/** The bell for the header; starts the poll and refreshes the count now (each navigation). */
export function bell() {
  button = h(
    "button",
    { type: "button", class: "bell", "aria-haspopup": "true", "aria-expanded": "false", "aria-controls": "notifications-panel", onclick: () => (panel ? closePanel() : openPanel()) },
    h("svg:svg", { viewBox: "0 0 24 24", width: "18", height: "18", "aria-hidden": "true", focusable: "false" }, h("svg:path", { d: BELL_PATH, fill: "currentColor" })),
  );
  badge = h("span", { class: "bell-count", "aria-hidden": "true", hidden: true });
  button.append(badge);
  drawCount(unread);
  refresh();
  if (!timer) timer = setInterval(refresh, POLL_MS);
  return h("span", { class: "bell-wrap" }, button);
}

function closePanel() {
  panel?.remove();
  panel = null;
  button?.setAttribute("aria-expanded", "false");
  document.removeEventListener("keydown", onKey);
  document.removeEventListener("click", onOutside, true);
}

function onKey(event) {
  if (event.key === "Escape" && panel) {
    closePanel();
    button?.focus();
  }
}

function onOutside(event) {
  if (panel && !panel.contains(event.target) && !button.contains(event.target)) closePanel();
}

async function openPanel() {
  panel = h("div", { class: "notifications-panel", id: "notifications-panel", role: "region", "aria-label": "Notifications" }, h("p", { role: "status" }, "Loading…"));
  button.parentElement.append(panel);
  button.setAttribute("aria-expanded", "true");
  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onOutside, true);
  await fill();
  panel?.querySelector("h2")?.focus();
}

async function fill() {
  if (!panel) return;
  let feed;
  try {
    feed = await get("notifications", { page_size: 20 });
  } catch (error) {
    panel.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message));
    return;
  }
  drawCount(feed.unread_count);
  const markAll = h(
    "button",
    {
      type: "button",
      class: "small",
      disabled: feed.unread_count === 0,
      onclick: async (e) => {
        const result = await busy(e.currentTarget, "Marking…", () => post("notifications/read-all"));
        drawCount(result.unread_count);
        await fill();
        panel?.querySelector("h2")?.focus();
      },
    },
    "Mark all read",
  );
  const items = feed.items.map((n) => {
    const open = async (event) => {
      event.preventDefault();
      if (!n.read) await post(`notifications/${n.id}/read`).catch(() => {});
      closePanel();
      refresh();
      if (n.link) navigate(n.link.startsWith("http") ? new URL(n.link).pathname : n.link);
    };
    return h(
      "li",
      { class: `notification${n.read ? "" : " unread"}`, "data-notification": n.id },
      n.link ? h("a", { href: n.link, onclick: open }, n.title) : h("span", {}, n.title),
      h("span", { class: "muted small block" }, formatDate(n.created_at, { time: true }), n.read ? "" : " · new"),
      !n.read
        ? h(
            "button",
            {
              type: "button",
              class: "link-button small",
              "aria-label": `Mark read: ${n.title}`,
              onclick: async () => {
                const marked = await post(`notifications/${n.id}/read`).catch((error) => (error instanceof ApiError ? null : Promise.reject(error)));
                if (marked) await fill();
              },
            },
            "Mark read",
          )
        : null,
    );
  });
  panel.replaceChildren(
    h("div", { class: "panel-head" }, h("h2", { tabindex: "-1" }, "Notifications"), markAll),
    h("p", { class: "muted small", role: "status" }, feed.unread_count ? `${feed.unread_count} unread` : "All read"),
    items.length ? h("ul", { class: "notification-list" }, items) : h("p", { class: "empty" }, "Nothing yet."),
    h("p", { class: "small" }, h("a", { href: "/settings#notifications", onclick: () => closePanel() }, "E-mail preferences")),
  );
}

const CATEGORIES = [
  ["security", "Security", "Verification, password resets, locked accounts and invitations. These always come, to keep your account safe."],
  ["referrals", "Referrals", "A referral received, accepted, declined, booked, completed or reported back."],
  ["notes", "Notes", "A new note from the other office on a referral."],
  ["files", "Files", "A file shared with your office."],
  ["cases", "Lab cases", "A case needs your action, a planning session is booked, a case has shipped."],
  ["patient_messages", "Patient messages", "A patient answered your message."],
];

/** Notification preferences: one e-mail switch per category (security locked on). */
export async function preferences() {
  const prefs = await get("me/notification-preferences");
  const status = h("p", { class: "save-status", role: "status" });
  const alert = h("p", { class: "form-alert", role: "alert", hidden: true });
  const rows = CATEGORIES.map(([key, label, explain]) => {
    const id = `pref-${key}`;
    const box = h("input", {
      type: "checkbox",
      id,
      name: key,
      checked: prefs[key] !== false,
      disabled: key === "security",
      "aria-describedby": `${id}-hint`,
      onchange: async (e) => {
        const input = e.currentTarget;
        alert.hidden = true;
        try {
          const saved = await api("PUT", "me/notification-preferences", { body: { [key]: input.checked } });
          input.checked = saved[key];
          status.textContent = `Saved: ${label} e-mails ${saved[key] ? "on" : "off"}.`;
        } catch (error) {
          input.checked = !input.checked;
          alert.textContent = error.message;
          alert.hidden = false;
        }
      },
    });
    return h(
      "div",
      { class: "field checkbox", "data-field": key },
      box,
      h("label", { for: id }, label, key === "security" ? " (always on)" : ""),
      h("p", { class: "hint", id: `${id}-hint` }, explain),
    );
  });
  return h(
    "section",
    { class: "card", id: "notifications", "aria-labelledby": "prefs-title" },
    h("h2", { id: "prefs-title" }, "Notification e-mails"),
    h("p", { class: "hint" }, "Your own choices: which e-mails you receive. The bell in the header always lists everything."),
    alert,
    rows,
    status,
  );
}
