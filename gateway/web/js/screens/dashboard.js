// The dashboard (both boxes at a glance) and the full referral lists.
import { get } from "../api.js";
import { navigate } from "../router.js";
import { dashboardBlock } from "./cases.js";
import { STAGE_LABELS, formatDate, h, newBadge, page, stageBadge } from "../ui.js";

function referralTable(items, box, caption) {
  if (!items.length) return h("p", { class: "empty" }, box === "sent" ? "No referrals sent yet." : "No referrals received yet.");
  return h(
    "table",
    { class: "list" },
    h("caption", { class: "visually-hidden" }, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Patient", box === "sent" ? "To" : "From", "Procedures", "Stage", "Sent", "Notes"].map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h(
      "tbody",
      {},
      items.map((r) =>
        h(
          "tr",
          { class: r.needs_attention ? "attention" : "", "data-referral": r.id },
          h(
            "td",
            {},
            h("a", { href: r.stage === "draft" ? `/referrals/${r.id}/edit` : `/referrals/${r.id}` }, r.patient_name || "(no name yet)"),
            h("div", { class: "muted small" }, r.reference),
          ),
          h("td", {}, (box === "sent" ? r.receiver_office_name : r.sender_office_name) || "—"),
          h("td", {}, r.procedures.join(", ") || "—"),
          h("td", {}, stageBadge(r.stage), r.needs_attention ? h("span", { class: "badge attention-badge" }, "Needs attention") : null),
          h("td", {}, formatDate(r.sent_at)),
          h("td", {}, r.new_notes ? newBadge(r.new_notes) : h("span", { class: "muted" }, "—")),
        ),
      ),
    ),
  );
}

function countCard(title, counts, box) {
  const active = Object.entries(counts.by_stage)
    .filter(([stage, n]) => n && !["closed", "cancelled", "declined", "forwarded"].includes(stage))
    .map(([stage, n]) => h("li", {}, h("a", { href: `/referrals?box=${box}&stage=${stage}` }, `${STAGE_LABELS[stage] || stage}: ${n}`)));
  return h(
    "div",
    { class: "card count-card", "data-box": box },
    h("h2", {}, title),
    h(
      "p",
      { class: "big-counts" },
      h("span", { class: counts.needs_attention ? "count attention" : "count", "data-count": "needs-attention" }, h("strong", {}, String(counts.needs_attention)), " need attention"),
      h("span", { class: counts.unread_notes ? "count new" : "count", "data-count": "unread-notes" }, h("strong", {}, String(counts.unread_notes)), " unread notes"),
    ),
    active.length ? h("ul", { class: "stage-counts" }, active) : h("p", { class: "muted" }, "Nothing open."),
  );
}

export async function show({ me }) {
  const [dashboard, received, sent, casesBlock] = await Promise.all([
    get("referrals/dashboard"),
    get("referrals", { box: "received", page_size: 10, sort: "-updated_at" }),
    get("referrals", { box: "sent", page_size: 10, sort: "-updated_at" }),
    dashboardBlock(me),
  ]);
  return page(
    me.office.name || "Dashboard",
    h("div", { class: "toolbar" }, h("a", { class: "button primary", href: "/referrals/new" }, "Refer a new patient")),
    h("div", { class: "grid-2" }, countCard("Received referrals", dashboard.received, "received"), countCard("Sent referrals", dashboard.sent, "sent")),
    h(
      "section",
      { class: "card", "aria-labelledby": "received-title" },
      h("h2", { id: "received-title" }, "Received ", h("a", { class: "small", href: "/referrals?box=received" }, "see all")),
      referralTable(received.items, "received", "Latest received referrals"),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "sent-title" },
      h("h2", { id: "sent-title" }, "Sent ", h("a", { class: "small", href: "/referrals?box=sent" }, "see all")),
      referralTable(sent.items, "sent", "Latest sent referrals"),
    ),
    casesBlock,
  );
}

export async function list({ query }) {
  const box = query.get("box") === "sent" ? "sent" : "received";
  const stage = query.get("stage") || "";
  const q = query.get("q") || "";
  const pageNo = Number(query.get("page") || 1);
  const result = await get("referrals", { box, stage: stage || undefined, q: q || undefined, page: pageNo, page_size: 25 });
  const tab = (value, text) => h("a", { href: `/referrals?box=${value}`, class: `tab${value === box ? " active" : ""}`, "aria-current": value === box ? "page" : null }, text);
  const search = h(
    "form",
    { class: "inline-form search", role: "search", onsubmit: (e) => { e.preventDefault(); const data = new FormData(e.target); navigate(`/referrals?box=${box}&q=${encodeURIComponent(data.get("q"))}&stage=${encodeURIComponent(data.get("stage"))}`); } },
    h("label", { for: "ref-q" }, "Patient name or reference"),
    h("input", { id: "ref-q", name: "q", value: q, type: "search" }),
    h("label", { for: "ref-stage" }, "Stage"),
    h("select", { id: "ref-stage", name: "stage" }, h("option", { value: "" }, "Any"), Object.entries(STAGE_LABELS).map(([v, t]) => h("option", { value: v, selected: v === stage }, t))),
    h("button", { type: "submit" }, "Search"),
  );
  const pages = Math.max(1, Math.ceil(result.total / result.page_size));
  const link = (p, text) => h("a", { href: `/referrals?box=${box}&q=${encodeURIComponent(q)}&stage=${stage}&page=${p}` }, text);
  return page(
    "Referrals",
    h("nav", { class: "tabs", "aria-label": "Boxes" }, tab("received", "Received"), tab("sent", "Sent")),
    search,
    h("div", { class: "card" }, referralTable(result.items, box, `${box} referrals`)),
    h("p", { class: "pager" }, pageNo > 1 ? link(pageNo - 1, "Previous") : null, ` Page ${pageNo} of ${pages} (${result.total}) `, pageNo < pages ? link(pageNo + 1, "Next") : null),
  );
}
