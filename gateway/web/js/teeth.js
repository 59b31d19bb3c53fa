// The tooth chart: an SVG odontogram of the 32 permanent and 20 primary teeth, labelled in
// the office's notation. Teeth are kept as FDI (ISO 3950) codes, as the API stores them.
// Keyboard: Tab enters the chart, arrow keys move, Space or Enter selects, Home/End jump.
import { h } from "./ui.js";

// Rows as the dentist sees the patient: the patient's right on the left of the screen.
const UPPER_PERMANENT = [18, 17, 16, 15, 14, 13, 12, 11, 21, 22, 23, 24, 25, 26, 27, 28].map(String);
const UPPER_PRIMARY = [55, 54, 53, 52, 51, 61, 62, 63, 64, 65].map(String);
const LOWER_PRIMARY = [85, 84, 83, 82, 81, 71, 72, 73, 74, 75].map(String);
const LOWER_PERMANENT = [48, 47, 46, 45, 44, 43, 42, 41, 31, 32, 33, 34, 35, 36, 37, 38].map(String);
export const ROWS = [UPPER_PERMANENT, UPPER_PRIMARY, LOWER_PRIMARY, LOWER_PERMANENT];

// Universal: 1-16 upper right to upper left, 17-32 lower left to lower right; A-T the same.
const UNIVERSAL_ORDER = [...UPPER_PERMANENT, ...[...LOWER_PERMANENT].reverse()];
const UNIVERSAL_PRIMARY_ORDER = [...UPPER_PRIMARY, ...[...LOWER_PRIMARY].reverse()];
/** Every tooth in Universal order (1-32, then A-T): the order selections are listed in. */
export const ALL = [...UNIVERSAL_ORDER, ...UNIVERSAL_PRIMARY_ORDER];

const PALMER_BRACKET = { 1: ["", "⏌"], 2: ["⎿", ""], 3: ["⎾", ""], 4: ["", "⏋"] };
const QUADRANT = { 1: "upper right", 2: "upper left", 3: "lower left", 4: "lower right" };
const PERMANENT_NAMES = ["central incisor", "lateral incisor", "canine", "first premolar", "second premolar", "first molar", "second molar", "third molar"];
const PRIMARY_NAMES = ["central incisor", "lateral incisor", "canine", "first molar", "second molar"];

const isPrimary = (fdi) => Number(fdi[0]) >= 5;
const quadrantOf = (fdi) => ((Number(fdi[0]) - 1) % 4) + 1;

/** The tooth's label in `notation` ("universal", "fdi", "palmer"). */
export function label(fdi, notation) {
  if (notation === "fdi") return fdi;
  const position = Number(fdi[1]);
  if (notation === "palmer") {
    const [pre, post] = PALMER_BRACKET[quadrantOf(fdi)];
    const mark = isPrimary(fdi) ? "ABCDE"[position - 1] : String(position);
    return `${pre}${mark}${post}`;
  }
  const i = UNIVERSAL_ORDER.indexOf(fdi);
  if (i >= 0) return String(i + 1);
  return String.fromCharCode(65 + UNIVERSAL_PRIMARY_ORDER.indexOf(fdi));
}

/** "upper right first molar" / "upper right primary canine" */
export function describe(fdi) {
  const names = isPrimary(fdi) ? PRIMARY_NAMES : PERMANENT_NAMES;
  return `${QUADRANT[quadrantOf(fdi)]} ${isPrimary(fdi) ? "primary " : ""}${names[Number(fdi[1]) - 1]}`;
}

export const NOTATION_NAMES = { universal: "Universal", fdi: "FDI", palmer: "Palmer" };

export function listText(teeth, notation) {
  const ordered = ALL.filter((t) => teeth.has(t));
  return ordered.map((t) => label(t, notation)).join(", ");
}

const W = 38; // tooth cell width
const GAP = 4;

/**
 * The chart. options: {notation, selected: iterable of FDI codes, readOnly, onChange(set), idPrefix}
 * Answers {element, selected (Set), set(codes)}.
 */
export function chart({ notation = "universal", selected = [], readOnly = false, onChange, caption } = {}) {
  const chosen = new Set(selected);
  const width = 16 * (W + GAP) + 24;
  const rowY = [14, 86, 150, 214];
  const height = 290;
  const svg = h("svg:svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "odontogram",
    role: readOnly ? "img" : "group",
    "aria-label": `${caption || "Tooth chart"}, ${NOTATION_NAMES[notation]} notation${readOnly ? "" : ". Use the arrow keys to move between teeth and Space or Enter to select"}`,
    focusable: "false",
  });
  svg.append(
    h("svg:line", { x1: width / 2, y1: 4, x2: width / 2, y2: height - 20, class: "midline" }),
    h("svg:line", { x1: 8, y1: 138, x2: width - 8, y2: 138, class: "occlusal" }),
    h("svg:text", { x: 10, y: height - 4, class: "side-label" }, "Patient's right"),
    h("svg:text", { x: width - 10, y: height - 4, class: "side-label end" }, "Patient's left"),
  );
  const nodes = new Map();
  ROWS.forEach((row, r) => {
    const offset = (width - row.length * (W + GAP)) / 2;
    const upper = r < 2;
    row.forEach((fdi, c) => {
      const primary = isPrimary(fdi);
      const w = primary ? W - 6 : W;
      const toothH = primary ? 44 : 58;
      const x = offset + c * (W + GAP) + (W - w) / 2;
      // A gentle arch: teeth near the midline sit closer to the occlusal line.
      const curve = Math.abs(c - (row.length - 1) / 2) * (primary ? 1.4 : 1.2);
      const y = rowY[r] + (upper ? -curve : curve) + (upper ? 8 : 0);
      const text = label(fdi, notation);
      const g = h(
        "svg:g",
        {
          class: "tooth",
          "data-tooth": fdi,
          "data-label": text,
          role: readOnly ? null : "checkbox",
          "aria-checked": readOnly ? null : String(chosen.has(fdi)),
          "aria-label": `${NOTATION_NAMES[notation]} ${text}, ${describe(fdi)}${readOnly && chosen.has(fdi) ? ", on this referral" : ""}`,
          tabindex: readOnly ? null : "-1",
        },
        h("svg:rect", { x, y, width: w, height: toothH, rx: primary ? 12 : 9 }),
        h("svg:text", { x: x + w / 2, y: y + toothH / 2 + 5, class: "tooth-label" }, text),
      );
      g.classList.toggle("selected", chosen.has(fdi));
      nodes.set(fdi, { g, r, c });
      svg.append(g);
    });
  });
  if (readOnly) {
    svg.setAttribute("aria-label", `${svg.getAttribute("aria-label")}: ${chosen.size ? listText(chosen, notation) : "no teeth"}`);
  }

  const list = h("p", { class: "teeth-list", "aria-live": "polite" });
  const drawList = () => {
    list.textContent = chosen.size
      ? `${readOnly ? "Teeth" : "Selected teeth"} (${NOTATION_NAMES[notation]}): ${listText(chosen, notation)}`
      : readOnly
        ? "No teeth charted."
        : "No teeth selected.";
  };
  drawList();

  const toggle = (fdi) => {
    if (chosen.has(fdi)) chosen.delete(fdi);
    else chosen.add(fdi);
    const { g } = nodes.get(fdi);
    g.classList.toggle("selected", chosen.has(fdi));
    g.setAttribute("aria-checked", String(chosen.has(fdi)));
    drawList();
    onChange?.(chosen);
  };

  let focused = UPPER_PERMANENT[0];
  const focusTooth = (fdi, move = true) => {
    nodes.get(focused).g.setAttribute("tabindex", "-1");
    focused = fdi;
    const { g } = nodes.get(fdi);
    g.setAttribute("tabindex", "0");
    if (move) g.focus();
  };

  if (!readOnly) {
    nodes.get(focused).g.setAttribute("tabindex", "0");
    svg.addEventListener("click", (event) => {
      const g = event.target.closest?.(".tooth");
      if (!g) return;
      focusTooth(g.dataset.tooth);
      toggle(g.dataset.tooth);
    });
    svg.addEventListener("keydown", (event) => {
      const g = event.target.closest?.(".tooth");
      if (!g) return;
      const { r, c } = nodes.get(g.dataset.tooth);
      const row = ROWS[r];
      let next = null;
      if (event.key === "ArrowRight") next = row[Math.min(c + 1, row.length - 1)];
      else if (event.key === "ArrowLeft") next = row[Math.max(c - 1, 0)];
      else if (event.key === "Home") next = row[0];
      else if (event.key === "End") next = row[row.length - 1];
      else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const nr = event.key === "ArrowDown" ? Math.min(r + 1, ROWS.length - 1) : Math.max(r - 1, 0);
        const target = ROWS[nr];
        // The tooth of the next row closest on screen (rows have 16 or 10 teeth, centred).
        const centre = c - (row.length - 1) / 2;
        const nc = Math.round(Math.max(0, Math.min(target.length - 1, centre + (target.length - 1) / 2)));
        next = target[nc];
      } else if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        toggle(g.dataset.tooth);
        return;
      } else return;
      event.preventDefault();
      focusTooth(next);
    });
  }

  const clear = readOnly
    ? null
    : h(
        "button",
        {
          type: "button",
          class: "link-button",
          onclick: () => {
            for (const fdi of [...chosen]) toggle(fdi);
          },
        },
        "Clear the selection",
      );

  const legend = h(
    "p",
    { class: "hint" },
    readOnly ? "Shown in your office's notation." : "Upper permanent teeth on top, primary teeth in the middle rows, lower permanent teeth at the bottom.",
  );
  const element = h("div", { class: "chart" }, svg, h("div", { class: "chart-foot" }, list, clear), legend);
  return { element, selected: chosen, set: (codes) => codes.forEach((c) => chosen.has(c) || toggle(c)) };
}
