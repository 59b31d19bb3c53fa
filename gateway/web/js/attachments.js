// Attachments: drag-and-drop or choose, checked here (type, 50 MB, 10 per referral) before
// upload, then uploaded one by one with a progress bar; the API's reason shown by the file.
import { upload } from "./api.js";
import { formatSize, h } from "./ui.js";

export const MAX_BYTES = 50 * 1024 * 1024;
export const MAX_FILES = 10;
const EXTENSIONS = ["pdf", "bmp", "gif", "jpg", "jpeg", "png", "tif", "tiff", "dcm", "dicom", "stl"];
export const ACCEPT = EXTENSIONS.map((e) => `.${e}`).join(",");

function checkFile(file) {
  const dot = file.name.lastIndexOf(".");
  const ext = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : "";
  if (ext && !EXTENSIONS.includes(ext)) return `“.${ext}” files cannot be attached. Use PDF, images (JPEG, PNG, GIF, BMP, TIFF), DICOM or STL.`;
  if (file.size > MAX_BYTES) return `This file is ${formatSize(file.size)}; the limit is 50 MB per file.`;
  if (file.size === 0) return "This file is empty.";
  return null;
}

/**
 * The attachment picker. `existing`: how many files the referral already has.
 * Answers {element, uploadAll(referralId) -> Promise<boolean all ok>, pending()}.
 */
export function picker({ existing = 0, label = "Attachments" } = {}) {
  const items = []; // {file, state: queued|uploading|done|error, error, row, bar}
  const inputId = `files-${Math.random().toString(36).slice(2, 8)}`;
  const input = h("input", { type: "file", id: inputId, multiple: true, accept: ACCEPT, class: "file-input" });
  const list = h("ul", { class: "file-list", "aria-label": "Files to attach" });
  const note = h("p", { class: "field-error", role: "alert", hidden: true });
  const counter = h("p", { class: "hint" });

  const countOf = () => existing + items.filter((i) => i.state !== "error").length;
  const drawCounter = () => {
    counter.textContent = `${countOf()} of ${MAX_FILES} files. PDF, images, DICOM or STL; up to 50 MB each.`;
  };

  const remove = (item) => {
    items.splice(items.indexOf(item), 1);
    item.row.remove();
    drawCounter();
  };

  const add = (files) => {
    note.hidden = true;
    for (const file of files) {
      const item = { file, state: "queued", error: null };
      const problem = checkFile(file) || (countOf() >= MAX_FILES ? `A referral takes at most ${MAX_FILES} files.` : null);
      item.bar = h("progress", { max: "100", value: "0", "aria-label": `Upload of ${file.name}` });
      item.status = h("span", { class: "file-status" }, "Ready to upload");
      item.errorText = h("p", { class: "field-error file-error", hidden: true });
      item.row = h(
        "li",
        { class: "file-row", "data-file": file.name },
        h("span", { class: "file-name" }, file.name),
        h("span", { class: "muted small" }, formatSize(file.size)),
        item.bar,
        item.status,
        h("button", { type: "button", class: "link-button", "aria-label": `Remove ${file.name}`, onclick: () => remove(item) }, "Remove"),
        item.errorText,
      );
      items.push(item);
      list.append(item.row);
      if (problem) fail(item, problem);
    }
    drawCounter();
  };

  const fail = (item, message) => {
    item.state = "error";
    item.error = message;
    item.row.classList.add("invalid");
    item.status.textContent = "Not attached";
    item.errorText.textContent = message;
    item.errorText.hidden = false;
    item.bar.hidden = true;
  };

  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = "";
  });
  const zone = h(
    "div",
    { class: "dropzone" },
    h("p", {}, "Drag files here, or "),
    h("label", { for: inputId, class: "button" }, "Choose files"),
    input,
  );
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    add([...(e.dataTransfer?.files || [])]);
  });
  drawCounter();

  async function uploadAll(referralId, ownerPath = "referrals") {
    let ok = true;
    for (const item of items) {
      if (item.state === "done") continue;
      if (item.state === "error") {
        ok = false;
        continue;
      }
      item.state = "uploading";
      item.status.textContent = "Uploading…";
      try {
        item.result = await upload(`${ownerPath}/${referralId}/files`, item.file, (fraction) => {
          item.bar.value = Math.round(fraction * 100);
        });
        item.state = "done";
        item.bar.value = 100;
        item.status.textContent = "Attached";
        item.row.classList.add("done");
      } catch (error) {
        ok = false;
        const reason = error.errors?.length ? error.errors.map((e) => e.message).join(" ") : error.message;
        fail(item, reason);
      }
    }
    if (!ok) {
      note.textContent = "A file could not be attached: see the reason next to it. Remove it (or choose a corrected file) and try again.";
      note.hidden = false;
    }
    drawCounter();
    return ok;
  }

  const element = h("div", { class: "attachments", "data-field": "files" }, zone, counter, list, note);
  return { element, uploadAll, pending: () => items.some((i) => i.state === "queued"), items };
}
