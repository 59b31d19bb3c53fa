// Lab cases: the list (both sides), sorted by any column or by attention, with the colour
// legend, search and the archive; the dashboard's lab cases block.
import { ApiError, api, get } from "../api.js";
import { navigate } from "../router.js";
import { announce, formatDate, formatDay, h, newBadge, page } from "../ui.js";

export const ARCHIVE_NOTE =
  "Archiving only hides the case from your own list; it does not cancel the case or put it on hold, and the lab keeps working on it.";

export const COLOURS = {
  red: { name: "Red", meaning: "You must act: send the missing files, or book the planning session." },
  yellow: { name: "Yellow", meaning: "May need attention: the lab has not evaluated the case yet, or has just received it." },
  green: { name: "Green", meaning: "Progressing: a planning session is booked." },
  white: { name: "White", meaning: "In the lab's hands, or over: manufacturing, finished, shipped, on hold or cancelled." },
};
const LAB_MEANING = { red: "Waiting for the client: files or a planning booking." };

/** The colour chip: a dot and the stage's name, the colour spelt out for screen readers. */
export function colourChip(colour, label) {
  return h(
    "span",
    { class: `chip colour-${colour}`, "data-colour": colour, title: `${COLOURS[colour]?.name || colour}: ${COLOURS[colour]?.meaning || ""}` },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "visually-hidden" }, `${COLOURS[colour]?.name || colour}: `),
    label,
  );
}

export function legend(side = "client") {
  return h(
    "details",
    { class: "legend card", open: true },
    h("summary", {}, "What the colours mean"),
    h(
      "ul",
      { class: "legend-list" },
      Object.entries(COLOURS).map(([key, c]) =>
        h("li", { "data-colour": key }, h("span", { class: `chip colour-${key}` }, h("span", { class: "dot", "aria-hidden": "true" }), c.name), " ", side === "lab" && LAB_MEANING[key] ? LAB_MEANING[key] : c.meaning),
      ),
    ),
  );
}

export const sideOf = (me) => (me.office.kind === "lab" ? "lab" : "client");

const COLUMNS = [
  ["reference", "Case ID"],
  ["patient", "Patient"],
  ["stage", "Stage"],
  ["other_office", null],
  ["last_modified", "Last modified"],
  ["due_date", "Due"],
  ["ship_date", "Ship date"],
];

export async function list({ me, query }) {
  const side = sideOf(me);
  const archived = query.get("archived") === "only" ? "only" : "exclude";
  const sort = query.get("sort") || "attention";
  const q = query.get("q") || "";
  const pageNo = Number(query.get("page") || 1);
  const colour = COLOURS[query.get("colour")] ? query.get("colour") : "";
  const result = await get("cases", { side, archived, sort, q: q || undefined, colour: colour || undefined, page: pageNo, page_size: 50 });
  const url = (changes) => {
    const params = new URLSearchParams({ archived, sort, q, colour, page: "1", ...changes });
    for (const [k, v] of [...params.entries()]) if (!v || (k === "archived" && v === "exclude") || (k === "sort" && v === "attention") || (k === "page" && v === "1")) params.delete(k);
    const text = params.toString();
    return `/cases${text ? `?${text}` : ""}`;
  };
  const sortKey = sort.replace(/^-/, "");
  const descending = sort.startsWith("-");

  const header = ([key, label]) => {
    const text = label || (side === "lab" ? "Client" : "Lab");
    const active = sortKey === key;
    const next = active && !descending ? `-${key}` : key;
    return h(
      "th",
      { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : "none", "data-sort": key },
      h(
        "button",
        { type: "button", class: "sort", onclick: () => navigate(url({ sort: next })) },
        text,
        h("span", { class: "sort-mark", "aria-hidden": "true" }, active ? (descending ? " ▼" : " ▲") : " ↕"),
      ),
    );
  };

  const archiveButton = (c) =>
    side === "client"
      ? h(
          "button",
          {
            type: "button",
            class: "small",
            "aria-label": `${c.archived ? "Take out of the archive" : "Archive"} ${c.reference}`,
            onclick: async (e) => {
              const button = e.currentTarget;
              button.disabled = true;
              try {
                await api(c.archived ? "DELETE" : "PUT", `cases/${c.id}/archive`);
                announce(c.archived ? `${c.reference} is back in your list.` : `${c.reference} archived. ${ARCHIVE_NOTE}`);
                await navigate(location.pathname + location.search, { replace: true });
              } catch (error) {
                if (!(error instanceof ApiError)) throw error;
                button.disabled = false;
                button.after(h("span", { class: "field-error", role: "alert" }, error.message));
              }
            },
          },
          c.archived ? "Unarchive" : "Archive",
        )
      : null;

  const table = result.items.length
    ? h(
        "table",
        { class: "list cases" },
        h("caption", { class: "visually-hidden" }, "Lab cases. Sort by a column with its header button."),
        h("thead", {}, h("tr", {}, COLUMNS.map(header), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
        h(
          "tbody",
          {},
          result.items.map((c) =>
            h(
              "tr",
              { "data-case": c.id, "data-colour": c.colour, class: c.colour === "red" ? "attention" : "" },
              h("td", { class: "nowrap" }, h("a", { href: `/cases/${c.id}` }, c.reference), c.new_notes ? [" ", newBadge(c.new_notes)] : null),
              h("td", {}, c.patient_name),
              h("td", {}, colourChip(c.colour, c.stage_label)),
              h("td", {}, (side === "lab" ? c.client_office_name : c.lab_office_name) || "—"),
              h("td", {}, formatDate(c.last_modified_at)),
              h("td", {}, c.due_date ? formatDay(c.due_date) : "—"),
              h("td", {}, c.ship_date ? formatDay(c.ship_date) : "—"),
              h("td", { class: "row-actions" }, archiveButton(c)),
            ),
          ),
        ),
      )
    : h("p", { class: "empty" }, archived === "only" ? "No archived cases." : q ? "No case matches the search." : side === "lab" ? "No cases have been sent to your lab yet." : "No cases yet.");

  const search = h(
    "form",
    {
      class: "inline-form search",
      role: "search",
      onsubmit: (e) => {
        e.preventDefault();
        navigate(url({ q: new FormData(e.target).get("q").trim() }));
      },
    },
    h("label", { for: "case-q" }, "Patient name or case ID"),
    h("input", { id: "case-q", name: "q", value: q, type: "search" }),
    h("button", { type: "submit" }, "Search"),
    q ? h("a", { href: url({ q: "" }) }, "Clear") : null,
  );
  const onlyArchived = h(
    "div",
    { class: "field checkbox archive-toggle" },
    h("input", { type: "checkbox", id: "only-archived", checked: archived === "only", "aria-describedby": "archive-note", onchange: (e) => navigate(url({ archived: e.target.checked ? "only" : "exclude" })) }),
    h("label", { for: "only-archived" }, "Show only archived cases"),
    h("p", { class: "hint", id: "archive-note" }, ARCHIVE_NOTE),
  );
  const pages = Math.max(1, Math.ceil(result.total / result.page_size));
  return page(
    archived === "only" ? "Archived lab cases" : "Lab cases",
    h(
      "div",
      { class: "toolbar" },
      side === "client" ? h("a", { class: "button primary", href: "/cases/new" }, "Send a new case") : h("a", { class: "button", href: "/lab" }, "Planning slots and turnaround"),
    ),
    legend(side),
    search,
    side === "client" ? onlyArchived : null,
    colour ? h("p", { class: "notice" }, colourChip(colour, `Only ${COLOURS[colour].name.toLowerCase()} cases are shown.`), " ", h("a", { href: url({ colour: "" }) }, "Show every colour")) : null,
    h("p", { class: "muted small" }, sort === "attention" ? "Sorted by attention: red first, then yellow, green and white; the oldest first within a colour." : h("a", { href: url({ sort: "attention" }) }, "Back to the attention order")),
    h("div", { class: "card table-wrap" }, table),
    pages > 1
      ? h("p", { class: "pager" }, pageNo > 1 ? h("a", { href: url({ page: String(pageNo - 1) }) }, "Previous") : null, ` Page ${pageNo} of ${pages} (${result.total}) `, pageNo < pages ? h("a", { href: url({ page: String(pageNo + 1) }) }, "Next") : null)
      : h("p", { class: "muted small" }, `${result.total} case${result.total === 1 ? "" : "s"}`),
  );
}

/** The dashboard's block: counts by colour and how many need attention. */
export async function dashboardBlock(me) {
  const side = sideOf(me);
  const totals = await Promise.all(Object.keys(COLOURS).map((colour) => get("cases", { side, colour, page_size: 1 }).then((p) => [colour, p.total])));
  const counts = Object.fromEntries(totals);
  const attention = side === "lab" ? counts.yellow : counts.red;
  return h(
    "section",
    { class: "card count-card", "aria-labelledby": "cases-title", "data-box": "cases" },
    h("h2", { id: "cases-title" }, "Lab cases ", h("a", { class: "small", href: "/cases" }, "see all")),
    h(
      "p",
      { class: "big-counts" },
      h("span", { class: attention ? "count attention" : "count", "data-count": "cases-attention" }, h("strong", {}, String(attention)), side === "lab" ? " to evaluate" : " need your action"),
    ),
    h(
      "ul",
      { class: "colour-counts" },
      Object.entries(COLOURS).map(([colour, c]) => h("li", { "data-colour": colour }, h("a", { href: `/cases?colour=${colour}`, class: "chip-link", "aria-label": `${c.name}: ${counts[colour]} case${counts[colour] === 1 ? "" : "s"}` }, h("span", { class: `chip colour-${colour}` }, h("span", { class: "dot", "aria-hidden": "true" }), c.name), ` ${counts[colour]}`))),
    ),
    side === "client" ? h("p", {}, h("a", { class: "button small", href: "/cases/new" }, "Send a new case")) : null,
  );
}
